// Benchmark P3: catalog query latency (latest-before, a 50-row list page) over 1,000,000 restore points.
import { CatalogIndex } from '../activities/restore-points/catalog.ts';
import { startPostgres } from '../stack/postgres.ts';
import { median, percentile, type Row } from './report.ts';

/** P3: the catalog with 1,000,000 restore points (100 services × 10,000): latest-before and a list page. */
export async function p3(results: Record<string, unknown>): Promise<Row[]> {
  const pg = await startPostgres();
  try {
    await pg.query('create database catalog');
    const catalog = new CatalogIndex(pg.url('catalog'));
    await catalog.migrate();
    const count = Number(process.env.BENCH_P3_POINTS ?? 1_000_000);
    const t0 = performance.now();
    await pg.query(
      `
      insert into restore_points (id, service, kind, status, started_at, completed_at, verified_at, size, sha256, set_id, run_id, storage, object, manifest)
      select '20200101T000000Z-' || lpad(g::text, 8, '0'), 'svc-' || (g % 100), 'postgres',
             case when g % 7 = 0 then 'failed' when g % 3 = 0 then 'verified' else 'unverified' end,
             ts, ts + interval '5 minutes', null, 1000000 + g, md5(g::text), 'set-' || (g / 100), 'run-' || (g / 100), 'file:///bench', 'data.pgdump',
             jsonb_build_object('format', 'rebound.restore-point/v1', 'id', '20200101T000000Z-' || lpad(g::text, 8, '0'), 'service', 'svc-' || (g % 100), 'kind', 'postgres',
               'object', 'data.pgdump', 'size', 1000000 + g, 'sha256', md5(g::text), 'started_at', ts, 'completed_at', ts + interval '5 minutes',
               'set_id', 'set-' || (g / 100), 'run_id', 'run-' || (g / 100), 'step', 'dump', 'source', '{}'::jsonb,
               'tool', jsonb_build_object('name', 'pg_dump', 'version', '15'), 'server_version', '15', 'labels', '{}'::jsonb, 'storage', 'file:///bench')
      from (select g, timestamptz '2020-01-01' + g * interval '1 minute' as ts from generate_series(1, ${count}) g) s`,
      [],
      'catalog',
    );
    await pg.query('analyze restore_points', [], 'catalog');
    const loadMs = performance.now() - t0;
    const span = count * 60_000;
    const start = Date.parse('2020-01-01T00:00:00Z');
    // A fixed sequence of query arguments, so runs compare.
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 200; i++) await catalog.latest(`svc-${i % 100}`, { before: new Date(start + random() * span).toISOString(), verified: true });
    const latest: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const service = `svc-${Math.floor(random() * 100)}`;
      const before = new Date(start + random() * span).toISOString();
      const t = performance.now();
      const point = await catalog.latest(service, { before, verified: i % 2 === 0 });
      latest.push(performance.now() - t);
      if (!point) throw new Error(`no point of ${service} before ${before}`);
    }
    const pages: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t = performance.now();
      const page = await catalog.list({ service: `svc-${i % 100}`, before: new Date(start + random() * span).toISOString(), limit: 50 });
      pages.push(performance.now() - t);
      if (page.length === 0) throw new Error('empty page');
    }
    await catalog.close();
    results.p3 = {
      points: count,
      load_ms: loadMs,
      latest_p50_ms: median(latest),
      latest_p99_ms: percentile(latest, 99),
      list_p50_ms: median(pages),
      list_p99_ms: percentile(pages, 99),
      latest_queries: latest.length,
      list_queries: pages.length,
    };
    return [
      {
        id: 'P3',
        what: `catalog latest-before, ${count.toLocaleString('en')} points (p50 / p99 of 2,000)`,
        value: `${median(latest).toFixed(2)} / ${percentile(latest, 99).toFixed(2)} ms`,
        goal: 'p99 < 5 ms',
        met: percentile(latest, 99) < 5,
      },
      {
        id: 'P3',
        what: 'catalog 50-row list page (p50 / p99 of 500)',
        value: `${median(pages).toFixed(2)} / ${percentile(pages, 99).toFixed(2)} ms`,
        goal: '< 20 ms',
        met: percentile(pages, 99) < 20,
      },
    ];
  } finally {
    await pg.destroy();
  }
}
