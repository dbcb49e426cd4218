// search.snapshot/restore/check and backup.verify of search points against a real OpenSearch 2.19 node: round trips by content, renames, faults, secrets.
import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPLEMENTATIONS } from '../../activities/index.ts';
import { openRestorePoints } from '../../activities/restore-points/index.ts';
import { stepRunner, type RunOptions } from '../helpers/activity.ts';
import { searchCheckImpl } from '../../activities/search/check.ts';
import { searchRestoreImpl } from '../../activities/search/restore.ts';
import { searchSnapshotImpl } from '../../activities/search/snapshot.ts';
import { compile } from '../../compiler/index.ts';
import { startOpenSearch, type OpenSearchNode } from '../../stack/opensearch.ts';
import { failureOf as failed } from '../helpers/failure.ts';
import { startTcpRelay } from '../helpers/tcp-relay.ts';

let node: OpenSearchNode;
let dir: string;
let storage: string;
const password = `pw-${randomBytes(12).toString('hex')}`;
/** Everything the actions returned or threw, searched for the password at the end. */
const seen: string[] = [];

async function bulk(index: string, docs: Record<string, unknown>[]): Promise<void> {
  const lines = docs.flatMap((d, n) => [JSON.stringify({ index: { _index: index, _id: String(n) } }), JSON.stringify(d)]);
  const res = await node.request<{ errors: boolean }>('POST', '/_bulk?refresh=true', `${lines.join('\n')}\n`);
  expect(res.errors).toBe(false);
}

type Snapshots = { snapshots: { snapshot: string; state: string; indices: string[] }[] };
type Settings = Record<string, { settings: { index: { uuid: string } } }>;
const count = async (index: string) => (await node.request<{ count: number }>('GET', `/${index}/_count`)).count;

const docs = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({ tag, n: i, text: `${tag} entry ${i} — ünïcode ✓`, nested: { even: i % 2 === 0 } }));

/** Every document of an index, by id, without index-specific metadata. */
async function contentOf(index: string): Promise<unknown[]> {
  const res = await node.request<{ hits: { hits: { _id: string; _source: unknown }[] } }>('POST', `/${index}/_search`, {
    size: 10_000,
    sort: [{ n: 'asc' }],
    query: { match_all: {} },
  });
  return res.hits.hits.map((h) => [h._id, h._source]);
}

beforeAll(async () => {
  node = await startOpenSearch({ log: (line) => console.log(`[opensearch] ${line}`) });
  dir = mkdtempSync(join(tmpdir(), 'rebound-search-test-'));
  storage = `file://${join(dir, 'store')}`;
  const url = new URL(node.url);
  url.username = 'rebound';
  url.password = password;
  process.env.SEARCH_TEST_URL = url.toString();
  process.env.SEARCH_TEST_PASSWORD = password;
  await bulk('logs-2026.01', docs(120, 'jan'));
  await bulk('logs-2026.02', docs(75, 'feb'));
  await bulk('orders', docs(30, 'order'));
}, 600_000); // the first run fetches the runner from Maven Central

afterAll(async () => {
  await node?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const { run } = stepRunner({
  runbook: 'nightly-search',
  step: 'snapshot-search',
  // backup.verify and prune find the cluster in the point (or scratch, or search:); search.check keeps no points.
  with: (impl) => ({
    ...(impl === verify || impl === prune ? {} : { cluster: { $secret: 'search' } }),
    ...(impl === searchCheckImpl ? {} : { storage: { url: storage } }),
  }),
  secrets: { search: { env: 'SEARCH_TEST_URL' }, password: { env: 'SEARCH_TEST_PASSWORD' } },
  onResult: (result) => seen.push(JSON.stringify(result)),
});

/** Every failure's text is kept: the secrets test reads them all. */
const failureOf = (promise: Promise<unknown>) => failed(promise, (f) => seen.push(JSON.stringify({ message: f.message, details: f.details })));

const points = () => openRestorePoints({ url: storage, region: 'us-east-1', force_path_style: true });
const verify = IMPLEMENTATIONS.find((i) => i.spec.name === 'backup.verify')!;
const prune = IMPLEMENTATIONS.find((i) => i.spec.name === 'restore_points.prune')!;
const snapshotNames = async (repository: string) => (await node.request<Snapshots>('GET', `/_snapshot/${repository}/_all`)).snapshots.map((s) => s.snapshot);
const repo = () => ({ type: 'fs', settings: { location: join(node.repoDir, 'main') } });
const snapshot = (service: string, w: Record<string, unknown> = {}, options: RunOptions = {}) =>
  run(searchSnapshotImpl, { service, repository: 'main', register: repo(), ...w }, options);

function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((name) => (statSync(join(root, name)).isDirectory() ? filesUnder(join(root, name)) : [join(root, name)]));
}

describe('search.snapshot, search.restore and search.check on OpenSearch 2.19', () => {
  it('snapshots a pattern; a renamed restore holds the same documents and leaves the originals untouched', { timeout: 120_000 }, async () => {
    const before = await node.request<Settings>('GET', '/logs-2026.01/_settings');
    const snap = await snapshot('logs', { indices: ['logs-*'] });
    expect(snap.outputs).toMatchObject({
      service: 'logs',
      repository: 'main',
      indices: [
        { index: 'logs-2026.01', documents: 120 },
        { index: 'logs-2026.02', documents: 75 },
      ],
    });
    const point = await points().find(snap.outputs.restore_point_id as string);
    expect(point.kind).toBe('search');
    expect(point.external).toEqual([expect.objectContaining({ cluster: node.url, repository: 'main', snapshot: snap.outputs.snapshot, version: '2.19.1' })]);
    expect(point.server_version).toBe('2.19.1');
    const listed = await node.request<Snapshots>('GET', `/_snapshot/main/${snap.outputs.snapshot}`);
    expect(listed.snapshots[0]).toMatchObject({ state: 'SUCCESS', indices: expect.arrayContaining(['logs-2026.01', 'logs-2026.02']) });
    expect(listed.snapshots[0].indices).not.toContain('orders');

    const restored = await run(searchRestoreImpl, { restore_point: point.id, rename_pattern: '(.+)', rename_replacement: 'restored-$1' });
    expect(restored.outputs).toMatchObject({
      indices: [
        { index: 'restored-logs-2026.01', from: 'logs-2026.01', documents: 120, health: 'yellow' },
        { index: 'restored-logs-2026.02', from: 'logs-2026.02', documents: 75, health: 'yellow' },
      ],
    });
    expect(await contentOf('restored-logs-2026.01')).toEqual(await contentOf('logs-2026.01'));
    expect(await contentOf('restored-logs-2026.02')).toEqual(await contentOf('logs-2026.02'));
    const after = await node.request<Settings>('GET', '/logs-2026.01/_settings');
    expect(after['logs-2026.01'].settings.index.uuid).toBe(before['logs-2026.01'].settings.index.uuid);
    expect(await count('logs-2026.01')).toBe(120);

    // A retry of the same restore adopts the indices it restored instead of failing on them.
    const again = await run(searchRestoreImpl, { restore_point: point.id, rename_replacement: 'restored-$1' });
    expect(again.outputs).toMatchObject({ indices: [{ documents: 120 }, { documents: 75 }] });

    // A subset, under another name; restoring over the live originals is refused.
    const subset = await run(searchRestoreImpl, { restore_point: point.id, indices: ['*.02'], rename_pattern: 'logs-(.+)', rename_replacement: 'feb-$1' });
    expect(subset.outputs).toMatchObject({ indices: [{ index: 'feb-2026.02', from: 'logs-2026.02', documents: 75 }] });
    const over = await failureOf(run(searchRestoreImpl, { restore_point: point.id }));
    expect(over.nonRetryable).toBe(true);
    expect(over.message).toContain('search: step "snapshot-search": index logs-2026.01 already exists on');
    expect(over.message).toContain('restore under other names (rename_replacement)');
  });

  it('a retry of a snapshot step adopts the snapshot its first attempt took: one point, one snapshot', { timeout: 60_000 }, async () => {
    const first = await snapshot('orders', { indices: ['orders'] }, { run_id: 'run-adopt' });
    // The point exists: the retry returns it.
    const second = await snapshot('orders', { indices: ['orders'] }, { run_id: 'run-adopt' });
    expect(second.outputs).toEqual(first.outputs);
    // The manifest was lost after the snapshot finished (a crash before commit): the snapshot is adopted, not taken twice.
    const point = await points().find(first.outputs.restore_point_id as string);
    await points().remove(point);
    const third = await snapshot('orders', { indices: ['orders'] }, { run_id: 'run-adopt' });
    expect(third.outputs).toMatchObject({ restore_point_id: point.id, snapshot: first.outputs.snapshot, indices: [{ index: 'orders', documents: 30 }] });
    expect(await points().scan('orders')).toHaveLength(1);
    const all = await node.request<Snapshots>('GET', '/_snapshot/main/_all');
    expect(all.snapshots.filter((s) => s.snapshot === first.outputs.snapshot)).toHaveLength(1);
  });

  it('search.check passes on a healthy cluster and fails, with a retry verdict, naming each failed check', async () => {
    // Credentials as a separate user and password secret this time, beside a bare URL.
    const login = { cluster: node.url, username: 'rebound', password: { $secret: 'password' } };
    const ok = await run(searchCheckImpl, { ...login, indices: ['orders', 'logs-*'], min_documents: { 'logs-*': 195, orders: 30 }, health: 'yellow' });
    expect(ok.outputs).toMatchObject({
      health: 'yellow',
      checks: expect.arrayContaining([{ check: 'documents in logs-* ≥ 195', ok: true, detail: '195 documents' }]),
    });
    const failure = await failureOf(run(searchCheckImpl, { ...login, indices: ['no-such-index'], min_documents: { orders: 31 }, health: 'green' }));
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('health ≥ green: cluster is yellow');
    expect(failure.message).toContain('index no-such-index: missing');
    expect(failure.message).toContain('documents in orders ≥ 31: 30 documents');
    expect(failure.message).toMatch(/will retry \(attempt 1 of 3\)$/);
  });

  it(
    'backup.verify restores into scratch indices and marks the point verified; a snapshot deleted from the repository marks it failed',
    { timeout: 120_000 },
    async () => {
      const snap = await snapshot('verify-me', { indices: ['orders', 'logs-2026.02'] });
      const id = snap.outputs.restore_point_id as string;
      const ok = await run(verify, { restore_point: id });
      expect(ok.outputs).toMatchObject({ status: 'verified' });
      expect((ok.outputs.checks as { check: string }[]).map((c) => c.check)).toEqual(['sha256', 'repository', 'snapshot', 'restore']);
      expect((await points().find(id)).status).toBe('verified');
      expect(await node.request('GET', '/_cat/indices/rebound-verify-*?format=json')).toEqual([]);

      await node.request('DELETE', `/_snapshot/main/${snap.outputs.snapshot}`);
      const failure = await failureOf(run(verify, { restore_point: id }));
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain(
        `search: step "snapshot-search": restore point ${id} of verify-me failed verification: snapshot: snapshot ${snap.outputs.snapshot} is not in repository main`,
      );
      expect((await points().find(id)).status).toBe('failed');
      const restore = await failureOf(run(searchRestoreImpl, { restore_point: id, rename_replacement: 'gone-$1' }));
      expect(restore.nonRetryable).toBe(true);
      expect(restore.message).toContain(`snapshot ${snap.outputs.snapshot} is not in repository main on ${node.url}`);
    },
  );

  it('a manifest whose snapshot record was altered fails verification on its sha256 and restores nothing', { timeout: 60_000 }, async () => {
    const snap = await snapshot('tampered', { indices: ['orders'] });
    const id = snap.outputs.restore_point_id as string;
    const manifest = filesUnder(join(dir, 'store', 'tampered')).find((f) => f.endsWith('manifest.json'))!;
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"documents": 30', '"documents": 31'));
    const failure = await failureOf(run(verify, { restore_point: id }));
    expect(failure.message).toContain('failed verification: sha256: the external list hashes to');
    expect(await node.request('GET', '/_cat/indices/rebound-verify-*?format=json')).toEqual([]);
  });

  it('a repository location outside path.repo, or a repository that does not exist, fails clearly without retry and leaves no point', async () => {
    const bad = await failureOf(
      run(searchSnapshotImpl, { service: 'bad-repo', repository: 'elsewhere', register: { type: 'fs', settings: { location: '/etc/rebound-nope' } } }),
    );
    expect(bad.nonRetryable).toBe(true);
    expect(bad.message).toContain("location [/etc/rebound-nope] doesn't match any of the locations specified by path.repo");
    expect(bad.message).toContain('for fs, the location must be under the path.repo of every node');
    const missing = await failureOf(run(searchSnapshotImpl, { service: 'bad-repo', repository: 'never-registered' }));
    expect(missing.nonRetryable).toBe(true);
    expect(missing.message).toContain('repository never-registered does not exist on');
    expect(missing.message).toContain('register it, or give register: {type, settings}');
    const none = await failureOf(run(searchSnapshotImpl, { service: 'bad-repo', repository: 'main', indices: ['nothing-*'] }));
    expect(none.message).toContain('no open index on');
    expect(await points().scan('bad-repo')).toEqual([]);
  });

  it('a drill must rename: without rename_replacement the runbook does not compile', () => {
    const runbook = (drill: string) =>
      `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: t}\nspec:\n  secrets: {es: {env: ES}}\n  steps:\n    - id: restore\n      uses: search.restore\n${drill}      with: {restore_point: rp-1, cluster: "\${{ secrets.es }}"}\n`;
    const refused = compile(runbook('      drill: {with: {indices: [orders]}}\n'), { file: 'rb.yaml', mode: 'drill' });
    expect(refused.errors.map((e) => e.format()).join('\n')).toContain('must replace where the change lands (rename_replacement)');
    const renamed = compile(runbook('      drill: {with: {rename_replacement: drill-$1}}\n'), { file: 'rb.yaml', mode: 'drill' });
    expect(renamed.errors).toEqual([]);
  });

  it(
    'OpenSearch killed while the snapshot is followed: a retryable failure, then a retry after the restart commits exactly one point',
    { timeout: 300_000 },
    async () => {
      // ~3 MB behind a 300 KB/s repository: the snapshot is usually still running when the node goes.
      await bulk(
        'big',
        Array.from({ length: 3000 }, (_, i) => ({ n: i, text: randomBytes(600).toString('base64') })),
      );
      // The action reaches the node through a relay: once it has seen the snapshot in progress,
      // every answer is held, so it cannot see it end, however fast the node writes it.
      const relay = await startTcpRelay(Number(new URL(node.url).port));
      const slow = { type: 'fs', settings: { location: join(node.repoDir, 'slow'), max_snapshot_bytes_per_sec: '300kb' } };
      const w = {
        service: 'big',
        repository: 'slow',
        register: slow,
        indices: ['big'],
        cluster: `http://127.0.0.1:${relay.port}`,
        username: 'rebound',
        password: { $secret: 'password' },
      };
      try {
        const env = new MockActivityEnvironment();
        let polled = 0;
        env.on('heartbeat', (d: { phase?: string }) => {
          if (d?.phase === 'snapshot' && ++polled === 1) relay.holdAfter(1, { andNew: true });
        });
        const failing = failureOf(run(searchSnapshotImpl, w, { run_id: 'run-fault', env }));
        await relay.held();
        await node.stop();
        // The held connections the node dropped are reset: the poll in flight fails as the node's death.
        relay.release();
        const failure = await failing;
        expect(polled).toBeGreaterThanOrEqual(1);
        expect(failure.nonRetryable).toBe(false);
        expect(failure.message).toMatch(/^search: step "snapshot-search": .*cannot reach http:\/\/127\.0\.0\.1:\d+.* — will retry \(attempt 1 of 3\)$/);
        expect(await points().scan('big')).toEqual([]);

        await node.start();
        // The retry takes the snapshot anew, or adopts it if the node finished it before it went: one point either way.
        const retry = await run(searchSnapshotImpl, w, { run_id: 'run-fault' });
        expect(retry.outputs).toMatchObject({ service: 'big', repository: 'slow', indices: [{ index: 'big', documents: 3000 }] });
        expect(await points().scan('big')).toHaveLength(1);
        const all = await node.request<Snapshots>('GET', '/_snapshot/slow/_all');
        expect(all.snapshots.map((s) => [s.snapshot, s.state])).toEqual([[retry.outputs.snapshot, 'SUCCESS']]);
        const restored = await run(searchRestoreImpl, { restore_point: retry.outputs.restore_point_id, rename_replacement: 'after-crash-$1' });
        expect(restored.outputs).toMatchObject({ indices: [{ index: 'after-crash-big', documents: 3000 }] });
      } finally {
        await relay.close();
      }
    },
  );

  it(
    "restore_points.prune deletes a dropped point's snapshot from the repository; one deleted by hand is fine; a dry run deletes nothing",
    { timeout: 120_000 },
    async () => {
      const ids: string[] = [];
      const names: string[] = [];
      for (const n of [1, 2, 3]) {
        const snap = await snapshot('pruned', { indices: ['orders'] }, { run_id: `run-prune-${n}` });
        ids.push(snap.outputs.restore_point_id as string);
        names.push(snap.outputs.snapshot as string);
      }
      await node.request('DELETE', `/_snapshot/main/${names[1]}`);
      const policy = { service: 'pruned', keep_last: 0, min_keep: 1, search: { cluster: { $secret: 'search' } } };

      const dry = await run(prune, { ...policy, dry_run: true });
      const sorted = (list: unknown) => [...(list as string[])].sort();
      expect(dry.outputs).toMatchObject({ kept: [ids[2]], dry_run: true });
      expect(sorted(dry.outputs.deleted)).toEqual(sorted([ids[0], ids[1]]));
      expect(await snapshotNames('main')).toEqual(expect.arrayContaining([names[0], names[2]]));
      expect(await points().scan('pruned')).toHaveLength(3);

      const out = await run(prune, policy);
      expect(out.outputs).toMatchObject({ kept: [ids[2]], dry_run: false });
      expect(sorted(out.outputs.deleted)).toEqual(sorted([ids[0], ids[1]]));
      const left = await snapshotNames('main');
      expect(left).toContain(names[2]);
      expect(left).not.toContain(names[0]);
      expect(left).not.toContain(names[1]);
      expect((await points().scan('pruned')).map((p) => p.id)).toEqual([ids[2]]);
    },
  );

  it(
    'prune goes on past a point whose cluster cannot be reached, fails with a retry verdict naming it, and the retry deletes it',
    { timeout: 120_000 },
    async () => {
      // The far service's points record a loopback proxy as their cluster; the proxy then drops every connection.
      let down = false;
      const target = new URL(node.url);
      const open = new Set<Socket>();
      const proxy: Server = createServer((client) => {
        if (down) return void client.destroy();
        const upstream = connect(Number(target.port), target.hostname);
        for (const socket of [client, upstream]) {
          open.add(socket);
          socket.on('close', () => open.delete(socket));
        }
        client.pipe(upstream).pipe(client);
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      });
      // Kept-alive connections die with it too, as they would when the cluster goes away.
      const goDown = () => {
        down = true;
        for (const socket of open) socket.destroy();
      };
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      const far = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const own = { storage: { url: `file://${join(dir, 'store-prune-fault')}` } };
      try {
        const take = async (service: string, n: number, w: Record<string, unknown> = {}) =>
          (await snapshot(service, { indices: ['orders'], ...own, ...w }, { run_id: `run-${service}-${n}` })).outputs as Record<string, string>;
        const [farOld, farNew] = [await take('far', 1, { cluster: far }), await take('far', 2, { cluster: far })];
        const [nearOld, nearNew] = [await take('near', 1), await take('near', 2)];
        goDown();

        const failure = await failureOf(run(prune, { keep_last: 1, ...own }));
        expect(failure.nonRetryable).toBe(false);
        expect(failure.message).toMatch(/^search: step "snapshot-search": deleted 1 \(.+\); kept 1 point\(s\) whose data outside storage could not be deleted/);
        expect(failure.message).toContain(`${farOld!.restore_point_id} (far, search): reading snapshot ${farOld!.snapshot}: cannot reach ${far}`);
        expect(failure.message).toMatch(/ — will retry \(attempt 1 of 3\)$/);
        const store = openRestorePoints({ url: own.storage.url, region: 'us-east-1', force_path_style: true });
        expect((await store.scan('near')).map((p) => p.id)).toEqual([nearNew!.restore_point_id]);
        expect((await store.scan('far')).map((p) => p.id).sort()).toEqual([farOld!.restore_point_id, farNew!.restore_point_id].sort());
        expect(await snapshotNames('main')).not.toContain(nearOld!.snapshot);
        expect(await snapshotNames('main')).toContain(farOld!.snapshot);

        down = false;
        const retry = await run(prune, { keep_last: 1, ...own });
        expect(retry.outputs).toMatchObject({ deleted: [farOld!.restore_point_id] });
        expect(await snapshotNames('main')).not.toContain(farOld!.snapshot);
        expect(await snapshotNames('main')).toContain(farNew!.snapshot);
        expect((await store.scan('far')).map((p) => p.id)).toEqual([farNew!.restore_point_id]);
      } finally {
        await new Promise((resolve) => proxy.close(resolve));
      }
    },
  );

  it('prune refuses, without retry, a point whose repository the given cluster does not have, and keeps it', { timeout: 60_000 }, async () => {
    const own = { storage: { url: `file://${join(dir, 'store-prune-repo')}` } };
    const [older] = [
      await snapshot('other-repo', { indices: ['orders'], ...own }, { run_id: 'run-or-1' }),
      await snapshot('other-repo', { indices: ['orders'], ...own }, { run_id: 'run-or-2' }),
    ];
    await node.request('DELETE', '/_snapshot/main');
    try {
      const failure = await failureOf(run(prune, { service: 'other-repo', keep_last: 1, ...own }));
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain(
        `repository main is not registered on ${node.url}: register it there, or give search: {cluster} of the cluster that has it`,
      );
      const store = openRestorePoints({ url: own.storage.url, region: 'us-east-1', force_path_style: true });
      expect(await store.scan('other-repo')).toHaveLength(2);
    } finally {
      await node.request('PUT', '/_snapshot/main', repo());
    }
    expect(await snapshotNames('main')).toContain(older.outputs.snapshot);
  });

  it('the password appears in no output, error or manifest', () => {
    expect(seen.length).toBeGreaterThan(15);
    for (const text of seen) expect(text).not.toContain(password);
    for (const file of filesUnder(join(dir, 'store'))) expect(readFileSync(file, 'utf8')).not.toContain(password);
  });
});
