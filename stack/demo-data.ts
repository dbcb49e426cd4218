// Seed data for the demo and tests: PostgreSQL orders (customers, orders) and inventory databases of known content.
import type { PostgresServer } from './postgres.ts';

/** Two related tables of known content, for the demo and the tests. */
export async function seedOrders(pg: PostgresServer, database: string, rows = 5000): Promise<void> {
  await pg.query(`create database ${database}`);
  await pg.query(
    `
    create table customers (id int primary key, name text not null);
    create table orders (id int primary key, customer_id int references customers(id), amount numeric(10,2), note text);
    insert into customers select g, 'customer ' || g from generate_series(1, ${Math.ceil(rows / 10)}) g;
    insert into orders select g, 1 + g % ${Math.ceil(rows / 10)}, (g * 7 % 1000) / 10.0, md5(g::text) from generate_series(1, ${rows}) g;
  `,
    [],
    database,
  );
}

export async function seedInventory(pg: PostgresServer, database: string): Promise<void> {
  await pg.query(`create database ${database}`);
  await pg.query(
    `create table items (sku text primary key, stock int not null);
    insert into items select 'sku-' || g, g % 50 from generate_series(1, 2000) g;`,
    [],
    database,
  );
}
