// Test helpers for backup round trips: start PostgreSQL and MinIO together, and fingerprint tables by row count and checksum.
import { startMinio, type MinioServer } from '../../stack/minio.ts';
import { startPostgres, type PostgresServer } from '../../stack/postgres.ts';

export { seedOrders } from '../../stack/demo-data.ts';

/** Row counts and a content checksum per table: what a round trip must preserve. */
export async function fingerprint(pg: PostgresServer, database: string): Promise<Record<string, { rows: number; md5: string }>> {
  const out: Record<string, { rows: number; md5: string }> = {};
  for (const table of ['customers', 'orders']) {
    const [row] = await pg.query<{ rows: string; md5: string }>(
      `select count(*) as rows, md5(coalesce(string_agg(t::text, ',' order by id), '')) as md5 from ${table} t`,
      [],
      database,
    );
    out[table] = { rows: Number(row!.rows), md5: row!.md5 };
  }
  return out;
}

/** PostgreSQL and MinIO; if either fails to start, the other is stopped before the error. */
export async function startBackends(): Promise<{ pg: PostgresServer; minio: MinioServer; stop(): Promise<void> }> {
  const [pg, minio] = await Promise.allSettled([startPostgres(), startMinio()]);
  if (pg.status === 'rejected' || minio.status === 'rejected') {
    await Promise.all([pg.status === 'fulfilled' && pg.value.destroy(), minio.status === 'fulfilled' && minio.value.stop()]);
    throw pg.status === 'rejected' ? pg.reason : (minio as PromiseRejectedResult).reason;
  }
  return { pg: pg.value, minio: minio.value, stop: async () => void (await Promise.all([pg.value.destroy(), minio.value.stop()])) };
}
