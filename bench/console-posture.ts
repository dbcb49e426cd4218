// Benchmark C1: the console's posture page — loadPosture + renderPosture over 200 services and 10,000 restore points, against a real Temporal server (goal < 300 ms).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { CatalogIndex } from '../activities/restore-points/catalog.ts';
import { closeCatalogs, openRestorePoints } from '../activities/restore-points/index.ts';
import { compile } from '../compiler/index.ts';
import { loadPosture } from '../client/posture.ts';
import { renderPosture } from '../console/views/posture.ts';
import { startPostgres } from '../stack/postgres.ts';
import { startTemporal } from '../stack/temporal.ts';
import { DATA } from '../stack/tools.ts';
import { writePoint } from '../test/helpers/points.ts';
import { median, percentile, type Row } from './report.ts';

const GOAL_MS = 300;

/** `runbooks` backup runbooks, each dumping `perRunbook` services on a nightly schedule with a 24h RPO. */
function backupRunbooks(runbooks: number, perRunbook: number) {
  return Array.from({ length: runbooks }, (_, r) => {
    const steps = Array.from(
      { length: perRunbook },
      (_, s) =>
        `    - {id: d${s}, uses: postgres.dump, with: {source: "\${{ secrets.pg }}", service: svc-${r * perRunbook + s}, storage: {url: "file:///bench"}, labels: {team: t${r}}}}`,
    ).join('\n');
    const text = `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: bench-backup-${r}}\nspec:\n  objectives: {rpo: 24h, rto: 1h}\n  triggers: {schedule: {cron: "0 2 * * *"}}\n  secrets: {pg: {env: PG_URL}}\n  steps:\n${steps}\n`;
    const { plan, errors } = compile(text, { file: `bench-${r}.yaml` });
    if (!plan) throw new Error(errors.map((e) => e.format()).join('\n'));
    return { file: `bench-${r}.yaml`, plan };
  });
}

/** Points every 30 minutes per service, newest first a few hours back; one in seven failed, one in three verified. */
function writePoints(root: string, services: number, total: number, now: number): void {
  for (let i = 0; i < total; i++) {
    const service = `svc-${i % services}`;
    const step = Math.floor(i / services);
    const status = i % 7 === 0 ? 'failed' : i % 3 === 0 ? 'verified' : 'unverified';
    // A spread of newest ages (service index × 10 min) so every colour shows.
    const at = new Date(now - (i % services) * 600_000 - step * 1_800_000).toISOString();
    writePoint(root, { service, completed_at: at, status });
  }
}

type Points = ReturnType<typeof openRestorePoints>;
type Runbooks = ReturnType<typeof backupRunbooks>;

/** `rounds` timed loads after 3 warm-ups: loadPosture, then renderPosture, each timed. */
async function measure(client: Client, runbooks: Runbooks, points: Points, services: number, now: number, rounds: number) {
  const once = async () => {
    const t = performance.now();
    const posture = await loadPosture({ client, runbooks, points, now });
    const loaded = performance.now();
    const html = renderPosture(posture);
    const end = performance.now();
    if (posture.services.length !== services || !html.includes('svc-0')) throw new Error(`posture has ${posture.services.length} services`);
    return { total: end - t, load: loaded - t, render: end - loaded, bytes: html.length };
  };
  for (let i = 0; i < Math.min(3, rounds); i++) await once();
  const runs = [];
  for (let i = 0; i < rounds; i++) runs.push(await once());
  const total = runs.map((r) => r.total);
  return {
    median_ms: median(total),
    p90_ms: percentile(total, 90),
    load_median_ms: median(runs.map((r) => r.load)),
    render_median_ms: median(runs.map((r) => r.render)),
    html_bytes: runs[0]!.bytes,
    runs: total,
  };
}

const text = (m: { median_ms: number; load_median_ms: number; render_median_ms: number }) =>
  `${m.median_ms.toFixed(1)} ms (load ${m.load_median_ms.toFixed(1)}, render ${m.render_median_ms.toFixed(1)})`;

/**
 * C1: loadPosture (the restore-point listing, the plans, Temporal visibility for 20 runbooks)
 * + renderPosture, with the catalog database as the index (what a store of 10,000 points is
 * run with: REBOUND_CATALOG_URL), median of 15. C1s, for comparison and not against the goal:
 * the same with no catalog, the file store listed on every load.
 */
export async function consolePosture(results: Record<string, unknown>): Promise<Row[]> {
  const services = Number(process.env.BENCH_C1_SERVICES ?? 200);
  const count = Number(process.env.BENCH_C1_POINTS ?? 10_000);
  const [server, pg] = await Promise.all([startTemporal({ dir: join(DATA, `bench-c1-${process.pid}`) }), startPostgres()]);
  const root = mkdtempSync(join(tmpdir(), 'rebound-bench-c1-'));
  const previousCatalog = process.env.REBOUND_CATALOG_URL;
  try {
    const client = new Client({ connection: await Connection.connect({ address: server.address }) });
    const now = Date.now();
    writePoints(root, services, count, now);
    const runbooks = backupRunbooks(20, services / 20);
    delete process.env.REBOUND_CATALOG_URL;
    const store = openRestorePoints({ url: `file://${root}`, region: 'us-east-1', force_path_style: true });
    const storage = await measure(client, runbooks, store, services, now, 3);
    // The catalog, synced from the store as `rebound restore-points sync` does.
    await pg.query('create database catalog');
    const catalog = new CatalogIndex(pg.url('catalog'));
    await catalog.replaceAll(await store.scan(), store.url);
    await catalog.close();
    process.env.REBOUND_CATALOG_URL = pg.url('catalog');
    const indexed = await measure(
      client,
      runbooks,
      openRestorePoints({ url: `file://${root}`, region: 'us-east-1', force_path_style: true }),
      services,
      now,
      15,
    );
    await client.connection.close();
    results.c1 = { services, points: count, runbooks: runbooks.length, catalog: indexed, storage_listing: storage };
    return [
      {
        id: 'C1',
        what: `console posture: ${services} services, ${count} points, catalog (median of 15)`,
        value: text(indexed),
        goal: `< ${GOAL_MS} ms`,
        met: indexed.median_ms < GOAL_MS,
      },
      { id: 'C1s', what: `the same without a catalog: the file store listed (median of 3)`, value: text(storage), goal: '(for comparison)', met: true },
    ];
  } finally {
    if (previousCatalog !== undefined) process.env.REBOUND_CATALOG_URL = previousCatalog;
    else delete process.env.REBOUND_CATALOG_URL;
    await closeCatalogs();
    rmSync(root, { recursive: true, force: true });
    await Promise.all([server.stop(), pg.destroy()]);
  }
}
