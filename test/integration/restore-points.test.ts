// Restore-point queries, sync, retention and the restore-points CLI on stores written by hand, through real workers and a real catalog.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { startPostgres, type PostgresServer } from '../../stack/postgres.ts';
import type { RunStatus } from '../../contract/run.ts';
import { rebound, type CliResult } from '../helpers/cli.ts';
import { seedOrders } from '../helpers/backends.ts';
import { writePoint } from '../helpers/points.ts';
import { connect, planOf, runToEnd, stepOf, uniqueSite } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

let pg: PostgresServer;
let client: Client;
const workers: WorkerProcess[] = [];
/** One worker answers from the catalog database, the other lists storage. */
const catalogSite = uniqueSite('rpcat');
const storageSite = uniqueSite('rpstore');
const base = mkdtempSync(join(tmpdir(), 'rebound-points-'));
let catalogEnv: Record<string, string>;
const noCatalog: Record<string, string> = { REBOUND_CATALOG_URL: '' };

beforeAll(async () => {
  pg = await startPostgres();
  await pg.query('create database catalog');
  await seedOrders(pg, 'orders', 500);
  catalogEnv = { REBOUND_CATALOG_URL: pg.url('catalog') };
  const common = { address: inject('temporalAddress'), bundle: inject('workflowBundle'), startTimeoutMs: 120_000 };
  const env = { ORDERS_PG: pg.url('orders') };
  workers.push(
    ...(await Promise.all([
      startWorkerProcess({ ...common, site: catalogSite, env: { ...env, ...catalogEnv } }),
      startWorkerProcess({ ...common, site: storageSite, env: { ...env, ...noCatalog } }),
    ])),
  );
  client = await connect(inject('temporalAddress'));
}, 300_000);

afterAll(async () => {
  for (const w of workers) await w.kill();
  await pg?.destroy();
});

/**
 * Two services over three nights. Night 1 is a complete set (s1), night 2's set has a
 * failed point, night 3 backed up orders only; night 4's upload never got its manifest.
 */
function fixture(name: string) {
  const root = join(base, name);
  const p = {
    orders1: writePoint(root, { service: 'orders-pg', completed_at: '2026-03-01T01:00:00Z', set_id: 's1', status: 'verified' }),
    users1: writePoint(root, { service: 'users-pg', completed_at: '2026-03-01T01:05:00Z', set_id: 's1' }),
    orders2: writePoint(root, { service: 'orders-pg', completed_at: '2026-03-02T01:00:00Z', set_id: 's2' }),
    users2: writePoint(root, { service: 'users-pg', completed_at: '2026-03-02T01:10:00Z', set_id: 's2', status: 'failed' }),
    orders3: writePoint(root, { service: 'orders-pg', completed_at: '2026-03-03T01:00:00Z', set_id: 's3' }),
    orders4: writePoint(root, { service: 'orders-pg', completed_at: '2026-03-04T01:00:00Z', set_id: 's4', manifest: false }),
  };
  return { root, url: `file://${root}`, storage: `{url: "file://${root}"}`, ...p };
}

const resolveStep = (id: string, ref: string, storage: string, extra = '') =>
  `    - {id: ${id}, needs: [], uses: catalog.resolve${extra}, with: {restore_point: ${ref}, storage: ${storage}}}\n`;
const runbook = (steps: string) =>
  planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: points}\nspec:\n  secrets: {orders: {env: ORDERS_PG}}\n  steps:\n${steps}`);
const resolved = (status: RunStatus, step: string) => stepOf(status, step).outputs?.restore_point_id;

async function sync(url: string): Promise<string> {
  const out = await rebound(['restore-points', 'sync', '--storage', url], catalogEnv);
  expect(out.code, out.stderr).toBe(0);
  return out.stdout;
}

describe('catalog.resolve through the PostgreSQL catalog', { timeout: 300_000 }, () => {
  it('finds points by id and the latest (verified) before a time from the index, which sync and the dump actions keep current', async () => {
    const f = fixture('resolve');
    expect(await sync(f.url)).toContain('indexed 5 restore point(s)');
    const queries =
      resolveStep('by-id', `"${f.orders2}"`, f.storage) +
      resolveStep('before', '{service: orders-pg, latest: any, before: "2026-03-02T12:00:00Z"}', f.storage) +
      resolveStep('verified-before', '{service: orders-pg, before: "2026-03-02T12:00:00Z"}', f.storage) +
      resolveStep('newest', '{service: orders-pg, latest: any}', f.storage) +
      resolveStep('none-before', '{service: orders-pg, latest: any, before: "2026-03-01T00:00:00Z"}', f.storage, ', continue_on_error: true');
    const status = await runToEnd(client, runbook(queries), catalogSite);
    expect(resolved(status, 'by-id')).toBe(f.orders2);
    expect(stepOf(status, 'by-id').outputs).toMatchObject({ service: 'orders-pg', status: 'unverified', completed_at: '2026-03-02T01:00:00.000Z' });
    expect(resolved(status, 'before')).toBe(f.orders2);
    expect(stepOf(status, 'verified-before').outputs).toMatchObject({ restore_point_id: f.orders1, status: 'verified' });
    expect(resolved(status, 'newest')).toBe(f.orders3);
    expect(stepOf(status, 'none-before').reason).toContain('no restore point of orders-pg before 2026-03-01T00:00:00Z');

    // A point that reached storage behind the index's back: the catalog worker answers from
    // the index (it does not list the store), the storage worker sees it, sync catches up.
    const late = writePoint(f.root, { service: 'orders-pg', completed_at: '2026-03-02T06:00:00Z' });
    const before = resolveStep('before', '{service: orders-pg, latest: any, before: "2026-03-02T12:00:00Z"}', f.storage);
    expect(resolved(await runToEnd(client, runbook(before), catalogSite), 'before')).toBe(f.orders2);
    expect(resolved(await runToEnd(client, runbook(before), storageSite), 'before')).toBe(late);
    expect(await sync(f.url)).toContain('indexed 6 restore point(s)');
    expect(resolved(await runToEnd(client, runbook(before), catalogSite), 'before')).toBe(late);

    // A dump indexes its point as it commits it: resolvable by id with no sync.
    const dumped = await runToEnd(
      client,
      runbook(`    - {id: dump, uses: postgres.dump, with: {source: "\${{ secrets.orders }}", service: live-pg, storage: ${f.storage}}}
${resolveStep('by-id', '"${{ steps.dump.outputs.restore_point_id }}"', f.storage).replace('needs: []', 'needs: [dump]')}${resolveStep('latest', '{service: live-pg, latest: any}', f.storage).replace('needs: []', 'needs: [dump]')}`),
      catalogSite,
    );
    expect(dumped.error).toBeUndefined();
    const id = String(stepOf(dumped, 'dump').outputs!.restore_point_id);
    expect(resolved(dumped, 'by-id')).toBe(id);
    expect(resolved(dumped, 'latest')).toBe(id);
    expect(await pg.query('select service, status from restore_points where id = $1', [id], 'catalog')).toEqual([{ service: 'live-pg', status: 'unverified' }]);
  });
});

describe('catalog.resolve_set: everything as of a time', { timeout: 300_000 }, () => {
  it('finds the newest complete set before a time, holding the services asked for, the same from the catalog and from storage', async () => {
    const f = fixture('sets');
    await sync(f.url);
    const setStep = (id: string, extra: string) =>
      `    - {id: ${id}, needs: [], uses: catalog.resolve_set, continue_on_error: true, with: {${extra}${extra ? ', ' : ''}storage: ${f.storage}}}\n`;
    const queries =
      setStep('newest', '') +
      setStep('as-of', 'before: "2026-03-03T00:00:00Z"') +
      setStep('holding-users', 'services: [users-pg]') +
      setStep('verified', 'latest: verified, services: [orders-pg]') +
      setStep('by-id', 'set_id: s3') +
      setStep('failed-set', 'set_id: s2') +
      setStep('too-early', 'before: "2026-03-01T01:02:00Z"');
    for (const site of [catalogSite, storageSite]) {
      const status = await runToEnd(client, runbook(queries), site);
      const out = (step: string) =>
        stepOf(status, step).outputs as { set_id: string; services: string[]; points: Record<string, { restore_point_id: string }> };
      expect(out('newest'), site).toMatchObject({ set_id: 's3', services: ['orders-pg'], completed_at: '2026-03-03T01:00:00.000Z' });
      // Night 2's set holds a failed point: the set before it is night 1's.
      expect(out('as-of'), site).toMatchObject({ set_id: 's1', services: ['orders-pg', 'users-pg'] });
      expect(out('as-of').points['users-pg']!.restore_point_id).toBe(f.users1);
      expect(out('as-of').points['orders-pg']!.restore_point_id).toBe(f.orders1);
      expect(out('holding-users').set_id, site).toBe('s1');
      expect(out('by-id').points['orders-pg']!.restore_point_id).toBe(f.orders3);
      // Night 1's users point was never verified; no set of verified points holds orders-pg alone either.
      expect(stepOf(status, 'verified').reason, site).toContain('no verified set holding orders-pg');
      expect(stepOf(status, 'failed-set').reason, site).toContain('no complete set with id s2');
      expect(stepOf(status, 'too-early').reason, site).toMatch(/no complete set completed before 2026-03-01T01:02:00Z .*restore-points sets/);
      expect(stepOf(status, 'too-early').reason, site).toContain('not retryable');
    }
  });
});

describe('a point without manifest.json', { timeout: 300_000 }, () => {
  it('is ignored by list, sync and resolve, from storage and from the catalog', async () => {
    const f = fixture('no-manifest');
    expect(existsSync(join(f.root, 'orders-pg', 'postgres', f.orders4, 'data.pgdump'))).toBe(true);
    const list = (env: Record<string, string>) => rebound(['restore-points', 'list', '--service', 'orders-pg', '--storage', f.url, '--json'], env);
    const [fromStorage, synced] = await Promise.all([list(noCatalog), sync(f.url)]);
    expect(JSON.parse(fromStorage.stdout).map((p: { id: string }) => p.id)).toEqual([f.orders3, f.orders2, f.orders1]);
    expect(synced).toContain('indexed 5 restore point(s)');
    const fromCatalog = await list(catalogEnv);
    expect(JSON.parse(fromCatalog.stdout).map((p: { id: string }) => p.id)).toEqual([f.orders3, f.orders2, f.orders1]);

    const queries =
      resolveStep('newest', '{service: orders-pg, latest: any}', f.storage) + resolveStep('by-id', `"${f.orders4}"`, f.storage, ', continue_on_error: true');
    for (const site of [storageSite, catalogSite]) {
      const status = await runToEnd(client, runbook(queries), site);
      expect(resolved(status, 'newest'), site).toBe(f.orders3);
      expect(stepOf(status, 'by-id').status, site).toBe('failed');
      expect(stepOf(status, 'by-id').reason, site).toContain(`no restore point with id ${f.orders4}`);
      expect(stepOf(status, 'by-id').attempt, site).toBe(1);
    }
  });
});

describe('restore_points.prune', () => {
  it('keep_daily, keep_weekly and keep_monthly keep the newest point of each period and delete the rest from storage', async () => {
    const root = join(base, 'retention');
    const storage = `{url: "file://${root}"}`;
    const times = {
      dec15: '2025-12-15T10:00:00Z',
      jan1early: '2026-01-01T01:00:00Z',
      jan1late: '2026-01-01T23:00:00Z',
      jan2: '2026-01-02T10:00:00Z',
      jan8: '2026-01-08T10:00:00Z',
      jan9failed: '2026-01-09T10:00:00Z',
      feb3early: '2026-02-03T10:00:00Z',
      feb3late: '2026-02-03T12:00:00Z',
    };
    type Name = keyof typeof times;
    const ids: Record<string, Record<Name, string>> = {};
    for (const service of ['daily', 'weekly', 'monthly']) {
      ids[service] = Object.fromEntries(
        Object.entries(times).map(([name, at]) => [
          name,
          writePoint(root, { service, completed_at: at, status: name.endsWith('failed') ? 'failed' : 'unverified' }),
        ]),
      ) as Record<Name, string>;
    }
    const prune = (service: string, policy: string) =>
      `    - {id: ${service}, needs: [], uses: restore_points.prune, with: {service: ${service}, ${policy}, storage: ${storage}}}\n`;
    const status = await runToEnd(
      client,
      runbook(prune('daily', 'keep_daily: 3') + prune('weekly', 'keep_weekly: 2') + prune('monthly', 'keep_monthly: 3')),
      catalogSite,
    );
    expect(status.error).toBeUndefined();
    // ISO weeks: Feb 3 is in W6, Jan 8 in W2; Jan 9's point failed, so it never counts.
    const expected: Record<string, Name[]> = {
      daily: ['feb3late', 'jan8', 'jan2'],
      weekly: ['feb3late', 'jan8'],
      monthly: ['feb3late', 'jan8', 'dec15'],
    };
    for (const [service, keep] of Object.entries(expected)) {
      const kept = keep.map((n) => ids[service]![n]).sort();
      const deleted = (Object.keys(times) as Name[])
        .filter((n) => !keep.includes(n))
        .map((n) => ids[service]![n])
        .sort();
      const outputs = stepOf(status, service).outputs as { kept: string[]; deleted: string[]; dry_run: boolean };
      expect([...outputs.kept].sort(), service).toEqual(kept);
      expect([...outputs.deleted].sort(), service).toEqual(deleted);
      expect(outputs.dry_run).toBe(false);
      // Whole points go: the data object with the manifest.
      expect(readdirSync(join(root, service, 'postgres')).sort(), service).toEqual(kept);
    }
  });
});

describe('the restore-points CLI', () => {
  it('show, latest, sets and prune --dry-run print their answers, the same from storage and from the catalog', { timeout: 600_000 }, async () => {
    const f = fixture('cli');
    await sync(f.url);
    // Each `rebound` process takes seconds to start on a loaded machine: a few at a time.
    const cli = (args: string[], env = noCatalog) => ({ args: [...args, '--storage', f.url], env });
    const both = (args: string[]) => [cli(args), cli(args, catalogEnv)] as const;
    const calls = {
      show: cli(['restore-points', 'show', f.orders2]),
      latest: cli(['restore-points', 'latest', '--service', 'orders-pg']),
      verified: cli(['restore-points', 'latest', '--service', 'orders-pg', '--verified', '--json']),
      before: both(['restore-points', 'latest', '--service', 'orders-pg', '--before', '2026-03-02T12:00:00Z', '--json']),
      sets: cli(['restore-points', 'sets', '--json']),
      setsBefore: both(['restore-points', 'sets', '--before', '2026-03-03T00:00:00Z', '--json']),
      setsHolding: cli(['restore-points', 'sets', '--service', 'users-pg', '--json']),
      setsNone: cli(['restore-points', 'sets', '--service', 'users-pg', '--verified']),
      dry: cli(['restore-points', 'prune', '--dry-run', '--service', 'orders-pg', '--keep-last', '1', '--json']),
      table: cli(['restore-points', 'prune', '--dry-run', '--keep-last', '1']),
      refused: cli(['restore-points', 'prune', '--keep-last', '1']),
    };
    const flat = Object.values(calls).flatMap((c) => (Array.isArray(c) ? c : [c])) as { args: string[]; env: Record<string, string> }[];
    const results = new Map<object, CliResult>();
    const queue = [...flat];
    await Promise.all(
      [1, 2, 3].map(async () => {
        for (let call = queue.shift(); call; call = queue.shift()) results.set(call, await rebound(call.args, call.env));
      }),
    );
    const out = (call: object) => results.get(call)!;
    /** Both answers of a query; the catalog's JSON comes back through jsonb, so values are compared, not text. */
    const agreed = (pair: readonly [object, object]) => {
      const [storage, catalog] = pair.map(out) as [CliResult, CliResult];
      expect(catalog.code).toBe(storage.code);
      expect(storage.stdout.startsWith('[') ? JSON.parse(catalog.stdout) : catalog.stdout).toEqual(
        storage.stdout.startsWith('[') ? JSON.parse(storage.stdout) : storage.stdout,
      );
      return storage;
    };
    const ids = (result: CliResult) => JSON.parse(result.stdout).map((p: { id: string }) => p.id);

    expect(out(calls.show).code).toBe(0);
    expect(JSON.parse(out(calls.show).stdout)).toMatchObject({
      id: f.orders2,
      service: 'orders-pg',
      set_id: 's2',
      status: 'unverified',
      object: 'data.pgdump',
    });

    expect(out(calls.latest).stdout.split('\n')[0]).toMatch(/^ID\s+SERVICE\s+KIND\s+STATUS\s+COMPLETED/);
    expect(out(calls.latest).stdout).toContain(f.orders3);
    expect(out(calls.latest).stdout).not.toContain(f.orders2);
    expect(ids(out(calls.verified))).toEqual([f.orders1]);
    expect(ids(agreed(calls.before))).toEqual([f.orders2]);

    // Night 3 is the newest set; before it, night 2's set has a failed point, so night 1's is the answer.
    expect(ids(out(calls.sets))).toEqual([f.orders3]);
    expect(ids(agreed(calls.setsBefore))).toEqual([f.orders1, f.users1]);
    expect(ids(out(calls.setsHolding))).toEqual([f.orders1, f.users1]);
    expect(out(calls.setsNone).code).toBe(1);
    expect(out(calls.setsNone).stderr).toContain('no verified set holding users-pg');

    // keep_last 1 keeps night 3; the newest verified point (night 1) is always kept.
    expect(JSON.parse(out(calls.dry).stdout)).toEqual({ would_delete: [f.orders2], keep: 2 });
    const table = out(calls.table).stdout;
    expect(table).toContain(f.orders2);
    expect(table).toContain(f.users2);
    expect(table).not.toContain(f.orders3);
    expect(table).not.toContain(f.orders1);
    expect(out(calls.refused).code).toBe(2);
    expect(out(calls.refused).stderr).toContain('--dry-run');
    // A preview deletes nothing.
    expect(readdirSync(join(f.root, 'orders-pg', 'postgres'))).toHaveLength(4);
  });
});
