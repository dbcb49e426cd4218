import { startMinio, type MinioServer } from '../../scripts/minio.ts';
import { startPostgres, type PostgresServer } from '../../scripts/postgres.ts';

/** Seeds `database` with two related tables of known content. */
export async function seedOrders(pg: PostgresServer, database: string, rows = 5000): Promise<void> {
  await pg.query(`create database ${database}`);
  await pg.query(`
    create table customers (id int primary key, name text not null);
    create table orders (id int primary key, customer_id int references customers(id), amount numeric(10,2), note text);
    insert into customers select g, 'customer ' || g from generate_series(1, ${Math.ceil(rows / 10)}) g;
    insert into orders select g, 1 + g % ${Math.ceil(rows / 10)}, (g * 7 % 1000) / 10.0, md5(g::text) from generate_series(1, ${rows}) g;
  `, [], database);
}

/** Row counts and a content checksum per table: what a round trip must preserve. */
export async function fingerprint(pg: PostgresServer, database: string): Promise<Record<string, { rows: number; md5: string }>> {
  const out: Record<string, { rows: number; md5: string }> = {};
  for (const table of ['customers', 'orders']) {
    const [row] = await pg.query<{ rows: string; md5: string }>(`select count(*) as rows, md5(coalesce(string_agg(t::text, ',' order by id), '')) as md5 from ${table} t`, [], database);
    out[table] = { rows: Number(row!.rows), md5: row!.md5 };
  }
  return out;
}

export async function startBackends(): Promise<{ pg: PostgresServer; minio: MinioServer; stop(): Promise<void> }> {
  const [pg, minio] = await Promise.all([startPostgres(), startMinio()]);
  return { pg, minio, stop: async () => void (await Promise.all([pg.stop(), minio.stop()])) };
}
