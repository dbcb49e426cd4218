// A small MongoDB shop (customers, orders, an index) for the backup demo and the example-runbook tests.
import { MongoClient } from 'mongodb';

/** Database `database` with `customers` and `orders` (and an index on orders.customer_id), as the PostgreSQL demo has. */
export async function seedShop(url: string, database = 'shop', orders = 5000): Promise<void> {
  const client = await MongoClient.connect(url);
  try {
    const db = client.db(database);
    const customers = Math.ceil(orders / 10);
    await db
      .collection<{ _id: number; name: string }>('customers')
      .insertMany(Array.from({ length: customers }, (_, i) => ({ _id: i + 1, name: `customer ${i + 1}` })));
    await db.collection<{ _id: number; customer_id: number; amount: number; placed_at: Date }>('orders').insertMany(
      Array.from({ length: orders }, (_, i) => ({
        _id: i + 1,
        customer_id: 1 + (i % customers),
        amount: ((i * 7) % 1000) / 10,
        placed_at: new Date(1.7e12 + i * 60_000),
      })),
    );
    await db.collection('orders').createIndex({ customer_id: 1, placed_at: -1 }, { name: 'customer_recent' });
  } finally {
    await client.close();
  }
}
