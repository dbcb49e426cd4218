// rabbitmq.export/import/check and backup.verify against two real RabbitMQ 3.10 brokers (Debian): round trips by content, one vhost, checks, corruption, faults, secrets.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPLEMENTATIONS } from '../../activities/index.ts';
import { canonical, type Definitions } from '../../activities/rabbitmq/definitions.ts';
import { rabbitmqCheckImpl } from '../../activities/rabbitmq/check.ts';
import { rabbitmqExportImpl } from '../../activities/rabbitmq/export.ts';
import { rabbitmqImportImpl } from '../../activities/rabbitmq/import.ts';
import { openRestorePoints } from '../../activities/restore-points/index.ts';
import { stepRunner } from '../helpers/activity.ts';
import type { ActionResult } from '../../contract/run.ts';
import { startRabbitMq, type RabbitMqServer } from '../../stack/rabbitmq.ts';
import { startTogether } from '../helpers/servers.ts';
import { failureOf as failed } from '../helpers/failure.ts';

let source: RabbitMqServer;
let target: RabbitMqServer;
let dir: string;
let storage: string;
let proxy: Server;
let cuts = 0;
const APP_PASSWORD = 'app-password-3f9c1e';
const TWIN_PASSWORD = 'twin-password-7d2a90';
/** Every output and failure message the actions produced, searched for passwords at the end. */
const seen: string[] = [];

async function seed(b: RabbitMqServer): Promise<void> {
  for (const vhost of ['shop', 'billing']) await b.api('PUT', `/api/vhosts/${vhost}`, {});
  await b.api('PUT', '/api/users/shop-app', { password: APP_PASSWORD, tags: 'management' });
  await b.api('PUT', '/api/permissions/shop/shop-app', { configure: '^orders', write: '.*', read: '.*' });
  await b.api('PUT', '/api/exchanges/shop/orders', { type: 'topic', durable: true });
  await b.api('PUT', '/api/exchanges/shop/dlx', { type: 'fanout', durable: true });
  await b.api('PUT', '/api/queues/shop/orders.created', { durable: true, arguments: { 'x-dead-letter-exchange': 'dlx', 'x-max-length': 1000 } });
  await b.api('PUT', '/api/queues/shop/orders.dead', { durable: true });
  await b.api('POST', '/api/bindings/shop/e/orders/q/orders.created', { routing_key: 'order.created.#' });
  await b.api('POST', '/api/bindings/shop/e/dlx/q/orders.dead', { routing_key: '' });
  await b.api('PUT', '/api/policies/shop/orders-ttl', { pattern: '^orders\\.', definition: { 'message-ttl': 60000 }, 'apply-to': 'queues' });
  await b.api('PUT', '/api/exchanges/billing/invoices', { type: 'direct', durable: true });
  await b.api('PUT', '/api/queues/billing/invoices', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await b.api('POST', '/api/bindings/billing/e/invoices/q/invoices', { routing_key: 'invoice' });
}

/**
 * A loopback TCP relay to the broker that, on its first connection, forwards the answer's
 * headers and 40 bytes of its body, then closes both sides: a broker gone in mid-answer.
 */
function cuttingProxy(port: number): Promise<Server> {
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port });
    const cut = cuts++ === 0;
    let head = Buffer.alloc(0);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!cut) return void client.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0 || head.length < end + 4 + 40) return;
      client.end(head.subarray(0, end + 4 + 40));
      upstream.destroy();
    });
    upstream.on('end', () => client.end());
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  [source, target] = await startTogether(startRabbitMq({ log: (line) => console.log(`[rabbitmq] ${line}`) }), startRabbitMq());
  await seed(source);
  dir = mkdtempSync(join(tmpdir(), 'rebound-rabbitmq-test-'));
  storage = `file://${join(dir, 'store')}`;
  process.env.RABBITMQ_TEST_SOURCE = source.url();
  process.env.RABBITMQ_TEST_TARGET = target.url();
  process.env.RABBITMQ_TEST_WRONG = source.url('not-the-password');
  proxy = await cuttingProxy(source.managementPort);
  process.env.RABBITMQ_TEST_CUT = source.url().replace(`:${source.managementPort}`, `:${(proxy.address() as { port: number }).port}`);
}, 600_000); // the first run installs rabbitmq-server from Debian

afterAll(async () => {
  proxy?.close();
  await Promise.all([source?.destroy(), target?.destroy()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

const { run } = stepRunner({
  runbook: 'nightly-backup',
  step: 'export-broker',
  // rabbitmq.check reads a broker only: it takes no storage.
  with: (impl) => (impl === rabbitmqCheckImpl ? {} : { storage: { url: storage } }),
  secrets: {
    cut: { env: 'RABBITMQ_TEST_CUT' },
    source: { env: 'RABBITMQ_TEST_SOURCE' },
    target: { env: 'RABBITMQ_TEST_TARGET' },
    wrong: { env: 'RABBITMQ_TEST_WRONG' },
  },
  onResult: (result) => seen.push(JSON.stringify(result)),
});
/** Every failure's text is kept: the secrets test reads them all. */
const failureOf = (promise: Promise<unknown>) => failed(promise, (f) => seen.push(f.message));

const points = () => openRestorePoints({ url: storage, region: 'us-east-1', force_path_style: true });
const verify = IMPLEMENTATIONS.find((i) => i.spec.name === 'backup.verify')!;

/** Definitions compared as sets, leaving out what differs between any two brokers (versions, cluster id) and the named users. */
function normal(defs: Definitions, ignoreUsers: string[] = [], vhostless = false): Record<string, string[]> {
  // One vhost's export still names the vhost in its policies; imported elsewhere, that name changes.
  const drop = (o: unknown) => (vhostless && o && typeof o === 'object' ? { ...o, vhost: undefined } : o);
  const set = (list: unknown[] | undefined) => (list ?? []).map((o) => canonical(drop(o))).sort();
  return {
    users: set(defs.users?.filter((u) => !ignoreUsers.includes(u.name))),
    vhosts: set(defs.vhosts),
    permissions: set(defs.permissions?.filter((p) => !ignoreUsers.includes((p as { user: string }).user))),
    parameters: set(defs.parameters),
    policies: set(defs.policies),
    queues: set(defs.queues),
    exchanges: set(defs.exchanges),
    bindings: set(defs.bindings),
  };
}

describe('rabbitmq actions on RabbitMQ 3.10 (two brokers)', () => {
  it('exports the whole broker and imports it into a second one: queues, exchanges, bindings, policies and users equal', { timeout: 120_000 }, async () => {
    const exported = await run(rabbitmqExportImpl, { source: { $secret: 'source' }, service: 'broker' });
    expect(exported.outputs).toMatchObject({ service: 'broker', vhosts: 3, users: 2, queues: 3, exchanges: 3, bindings: 3, policies: 1 });
    const point = await points().find(exported.outputs.restore_point_id as string);
    expect(point).toMatchObject({ kind: 'rabbitmq', object: 'definitions.json', server_version: '3.10.8' });
    expect(point.source).toMatchObject({ host: '127.0.0.1', port: source.managementPort, user: source.user });
    expect(point.source).not.toHaveProperty('vhost');

    const imported = await run(rabbitmqImportImpl, { restore_point: point.id, target: { $secret: 'target' } });
    expect(imported.outputs).toMatchObject({ target: `127.0.0.1:${target.managementPort}`, vhost: null, queues: 3, exchanges: 3, bindings: 3 });
    const want = normal((await source.api('GET', '/api/definitions')) as Definitions);
    expect(normal((await target.api('GET', '/api/definitions')) as Definitions, [target.user])).toEqual(want);
    // The password hash came over: the application's password works on the second broker.
    const whoami = await fetch(`http://127.0.0.1:${target.managementPort}/api/whoami`, {
      headers: { authorization: `Basic ${Buffer.from(`shop-app:${APP_PASSWORD}`).toString('base64')}` },
    });
    expect(whoami.status).toBe(200);
  });

  it('imports a vhost point, and one vhost of a whole-broker point, into another vhost', { timeout: 120_000 }, async () => {
    const shop = await run(rabbitmqExportImpl, { source: { $secret: 'source' }, service: 'broker-shop', vhost: 'shop' });
    expect(shop.outputs).toMatchObject({ vhosts: 1, users: 0, queues: 2, exchanges: 2, bindings: 2, policies: 1 });
    const copy = await run(rabbitmqImportImpl, { restore_point: shop.outputs.restore_point_id, target: { $secret: 'target' }, vhost: 'shop-copy' });
    expect(copy.outputs).toMatchObject({ vhost: 'shop-copy', queues: 2, exchanges: 2, bindings: 2 });
    expect(normal((await target.api('GET', '/api/definitions/shop-copy')) as Definitions, [], true)).toEqual(
      normal((await source.api('GET', '/api/definitions/shop')) as Definitions, [], true),
    );

    const none = await failureOf(run(rabbitmqExportImpl, { source: { $secret: 'source' }, service: 'broker-none', vhost: 'no-such-vhost' }));
    expect(none.nonRetryable).toBe(true);
    expect(none.message).toContain(`http://127.0.0.1:${source.managementPort} has no vhost "no-such-vhost"`);
    expect(await points().scan('broker-none')).toEqual([]);

    const whole = await run(rabbitmqExportImpl, { source: { $secret: 'source' }, service: 'broker-whole' });
    const ambiguous = await failureOf(run(rabbitmqImportImpl, { restore_point: whole.outputs.restore_point_id, target: { $secret: 'target' }, vhost: 'x' }));
    expect(ambiguous.nonRetryable).toBe(true);
    expect(ambiguous.message).toContain('holds vhosts /, billing, shop; name the one to import with from_vhost');
    const billing = await run(rabbitmqImportImpl, {
      restore_point: whole.outputs.restore_point_id,
      target: { $secret: 'target' },
      vhost: 'billing-copy',
      from_vhost: 'billing',
    });
    expect(billing.outputs).toMatchObject({ vhost: 'billing-copy', queues: 1, exchanges: 1, bindings: 1 });
    expect(normal((await target.api('GET', '/api/definitions/billing-copy')) as Definitions, [], true)).toEqual(
      normal((await source.api('GET', '/api/definitions/billing')) as Definitions, [], true),
    );
  });

  it('rabbitmq.check passes on queues with messages, exchanges and bindings, and names each thing that fails', { timeout: 120_000 }, async () => {
    for (const key of ['order.created.eu', 'order.created.us'])
      await source.api('POST', '/api/exchanges/shop/orders/publish', { properties: {}, routing_key: key, payload: 'x', payload_encoding: 'string' });
    const w = {
      target: { $secret: 'source' },
      vhost: 'shop',
      queues: [{ name: 'orders.created', min_messages: 2 }, 'orders.dead'],
      exchanges: ['orders', 'dlx'],
      bindings: [{ source: 'orders', destination: 'orders.created', routing_key: 'order.created.#' }],
    };
    // Message counts reach the API with the broker's statistics (every second on these brokers).
    let passed: ActionResult | undefined;
    const deadline = Date.now() + 60_000;
    while (!passed && Date.now() < deadline) {
      passed = await run(rabbitmqCheckImpl, w).catch(() => undefined);
      if (!passed) await new Promise((r) => setTimeout(r, 500));
    }
    expect(passed?.outputs.checks).toHaveLength(5);
    expect((passed!.outputs.checks as { detail: string }[])[0]!.detail).toBe('exists: 0 consumers, 2 messages');

    const failure = await failureOf(
      run(rabbitmqCheckImpl, {
        target: { $secret: 'source' },
        vhost: 'shop',
        queues: ['nope', { name: 'orders.created', min_consumers: 1 }],
        exchanges: ['missing-exchange'],
        bindings: [{ source: 'orders', destination: 'orders.created', routing_key: 'order.cancelled' }],
      }),
    );
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('rabbitmq: step "export-broker": vhost shop: queue nope: missing; queue orders.created: 0 consumers (need 1);');
    expect(failure.message).toContain('exchange missing-exchange: missing');
    expect(failure.message).toContain('binding orders → queue orders.created (order.cancelled): missing; bound with "order.created.#"');
    const noVhost = await failureOf(run(rabbitmqCheckImpl, { target: { $secret: 'source' }, vhost: 'nowhere', exchanges: ['x'] }));
    expect(noVhost.message).toContain('has no vhost "nowhere"');
  });

  it(
    'backup.verify imports into scratch vhosts and marks the point verified; a flipped byte marks it failed and import refuses it',
    { timeout: 120_000 },
    async () => {
      const exported = await run(rabbitmqExportImpl, { source: { $secret: 'source' }, service: 'broker-verify' });
      const id = exported.outputs.restore_point_id as string;
      const ok = await run(verify, { restore_point: id, scratch: { $secret: 'target' } });
      expect(ok.outputs).toMatchObject({ status: 'verified' });
      const checks = ok.outputs.checks as { check: string; ok: boolean; detail: string }[];
      expect(checks.map((c) => c.check)).toEqual(['sha256', 'counts', 'import']);
      expect(checks[2]!.detail).toContain('3 vhost(s) imported into scratch vhosts');
      const vhosts = ((await target.api('GET', '/api/vhosts')) as { name: string }[]).map((v) => v.name);
      expect(vhosts.filter((v) => v.startsWith('rebound-verify-'))).toEqual([]);

      const p = points();
      const point = await p.find(id);
      const file = new URL(`${storage}/${p.keyOf(point)}`);
      const bytes = readFileSync(file);
      bytes[bytes.indexOf('orders.created')] ^= 0x01;
      writeFileSync(file, bytes);
      const failed = await failureOf(run(verify, { restore_point: id }));
      expect(failed.nonRetryable).toBe(true);
      expect(failed.message).toContain('rabbitmq: step "export-broker": restore point');
      expect(failed.message).toContain('failed verification: sha256: read');
      expect((await p.find(id)).status).toBe('failed');
      const refused = await failureOf(
        run(rabbitmqImportImpl, { restore_point: id, target: { $secret: 'target' }, vhost: 'never-created', from_vhost: 'shop' }),
      );
      expect(refused.nonRetryable).toBe(true);
      expect(refused.type).toBe('verification_failed');
      expect(refused.message).toContain('the manifest says');
      expect(((await target.api('GET', '/api/vhosts')) as { name: string }[]).map((v) => v.name)).not.toContain('never-created');
    },
  );

  it('a wrong password fails without retry, says what to fix, and leaves no restore point', async () => {
    const failure = await failureOf(run(rabbitmqExportImpl, { source: { $secret: 'wrong' }, service: 'broker-denied' }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('auth_failed');
    expect(failure.message).toContain(
      `rabbitmq: step "export-broker": RabbitMQ management API at http://127.0.0.1:${source.managementPort} refused the credentials of user "${source.user}" (HTTP 401); check the password in the secret — not retryable`,
    );
    expect(failure.message).not.toContain('not-the-password');
    expect(await points().scan('broker-denied')).toEqual([]);
  });

  it('a broker that is down fails the export with a retry verdict; the retry after its restart commits one restore point', { timeout: 180_000 }, async () => {
    const info = { scheduledTimestampMs: Date.parse('2026-11-27T01:00:00Z') };
    await source.stop();
    try {
      const failure = await failureOf(
        run(
          rabbitmqExportImpl,
          { source: { $secret: 'source' }, service: 'broker-down' },
          { env: new MockActivityEnvironment({ ...info, attempt: 1 }), run_id: 'run-down' },
        ),
      );
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toMatch(/did not answer GET \/api\/definitions \(ECONNREFUSED\) — will retry \(attempt 1 of 3\)/);
      expect(await points().scan('broker-down')).toEqual([]);
    } finally {
      await source.start();
    }
    const retried = await run(
      rabbitmqExportImpl,
      { source: { $secret: 'source' }, service: 'broker-down' },
      { env: new MockActivityEnvironment({ ...info, attempt: 2 }), run_id: 'run-down' },
    );
    expect(retried.outputs).toMatchObject({ queues: 3, exchanges: 3, bindings: 3 });
    const again = await run(
      rabbitmqExportImpl,
      { source: { $secret: 'source' }, service: 'broker-down' },
      { env: new MockActivityEnvironment({ ...info, attempt: 3 }), run_id: 'run-down' },
    );
    expect(again.outputs.restore_point_id).toBe(retried.outputs.restore_point_id);
    expect((await points().scan('broker-down')).map((p) => p.id)).toEqual([retried.outputs.restore_point_id]);
  });

  it('an answer cut off in mid-body fails with a retry verdict and leaves no object; the retry commits the point', { timeout: 60_000 }, async () => {
    const info = { scheduledTimestampMs: Date.parse('2026-11-27T02:00:00Z') };
    const w = { source: { $secret: 'cut' }, service: 'broker-cut' };
    const failure = await failureOf(run(rabbitmqExportImpl, w, { env: new MockActivityEnvironment({ ...info, attempt: 1 }), run_id: 'run-cut' }));
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(
      /^rabbitmq: step "export-broker": http:\/\/127\.0\.0\.1:\d+ stopped sending the definitions mid-answer \(.+\) — will retry \(attempt 1 of 3\)$/,
    );
    const leftovers = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? leftovers(join(d, f)) : [join(d, f)]));
    expect(leftovers(join(dir, 'store')).filter((f) => f.includes('broker-cut'))).toEqual([]);
    const retried = await run(rabbitmqExportImpl, w, { env: new MockActivityEnvironment({ ...info, attempt: 2 }), run_id: 'run-cut' });
    expect(retried.outputs).toMatchObject({ queues: 3, exchanges: 3, bindings: 3 });
    expect((await points().scan('broker-cut')).map((p) => p.id)).toEqual([retried.outputs.restore_point_id]);
  });

  it("users: false leaves the target's users alone; importing its own user is refused with what to do", { timeout: 60_000 }, async () => {
    // The source has a user of the same name as the target's admin, with another password.
    await source.api('PUT', `/api/users/${target.user}`, { password: TWIN_PASSWORD, tags: 'administrator' });
    try {
      const exported = await run(rabbitmqExportImpl, { source: { $secret: 'source' }, service: 'broker-twin' });
      const kept = await run(rabbitmqImportImpl, { restore_point: exported.outputs.restore_point_id, target: { $secret: 'target' }, users: false });
      expect(kept.outputs).toMatchObject({ queues: 3, exchanges: 3, bindings: 3 });
      expect(await target.api('GET', '/api/whoami')).toMatchObject({ name: target.user });

      const replaced = await failureOf(run(rabbitmqImportImpl, { restore_point: exported.outputs.restore_point_id, target: { $secret: 'target' } }));
      expect(replaced.nonRetryable).toBe(true);
      expect(replaced.message).toContain(`the import set user "${target.user}" to the point's password hash`);
      expect(replaced.message).toContain('or import with users: false');
    } finally {
      target.ctl(['change_password', target.user, target.password]);
      await source.api('DELETE', `/api/users/${target.user}`);
    }
  });

  it('no password appears in any output, failure or stored file', () => {
    expect(seen.length).toBeGreaterThan(10);
    const files = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : [join(d, f)]));
    const stored = files(join(dir, 'store')).map((f) => readFileSync(f, 'utf8'));
    // The points hold password hashes (as RabbitMQ's own export does), never the passwords.
    expect(stored.some((text) => text.includes('password_hash'))).toBe(true);
    for (const text of [...seen, ...stored])
      for (const secret of [source.password, target.password, APP_PASSWORD, TWIN_PASSWORD]) expect(text).not.toContain(secret);
  });
});
