// Signed manifests (storage.manifest_key): a store writer without the key cannot forge a point, nor a verdict, that queries, resolve, verify or the catalog accept.
import { randomBytes } from 'node:crypto';
import { manifestFields } from '../helpers/points.ts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCatalogs, openRestorePoints } from '../../activities/restore-points/index.ts';
import { defineVerify } from '../../activities/restore-points/verify.ts';
import { testRestore as postgresTestRestore } from '../../activities/postgres/verify.ts';
import { stepRunner } from '../helpers/activity.ts';
import { StorageSchema } from '../../contract/storage.ts';
import { startPostgres, type PostgresServer } from '../../stack/postgres.ts';
import { rebound } from '../helpers/cli.ts';

let pg: PostgresServer;
const KEY = `store-key-${randomBytes(12).toString('hex')}`;
const verify = defineVerify({ postgres: postgresTestRestore });
const DATA = Buffer.from('pg bytes');

beforeAll(async () => {
  pg = await startPostgres();
  await pg.query('create database catalog');
}, 300_000);

afterAll(async () => {
  await closeCatalogs();
  await pg?.destroy();
});

const SIGNED = '20260301T010000Z-00signed';
const UNSIGNED = '20260302T010000Z-unsigned';
const BADSIG = '20260303T010000Z-00badsig';

/** A store where Rebound (with the key) committed one point, and a store writer without it planted two, at valid paths. */
async function forgedStore() {
  const root = mkdtempSync(join(tmpdir(), 'rebound-signed-'));
  const url = `file://${root}`;
  const keyed = StorageSchema.parse({ url, manifest_key: KEY });
  const plain = StorageSchema.parse({ url });
  const commit = async (storage: typeof keyed, id: string, at: string) => {
    const draft = openRestorePoints(storage).draft('orders-pg', 'postgres', id);
    await draft.put('data.pgdump', Readable.from([DATA]));
    return draft.commit(manifestFields(at, DATA));
  };
  await commit(keyed, SIGNED, '2026-03-01T01:00:00Z');
  // Newer than the signed point: `latest` would pick them.
  await commit(plain, UNSIGNED, '2026-03-02T01:00:00Z');
  await commit(plain, BADSIG, '2026-03-03T01:00:00Z');
  const manifest = join(root, 'orders-pg', 'postgres', BADSIG, 'manifest.json');
  const copied = JSON.parse(readFileSync(join(root, 'orders-pg', 'postgres', SIGNED, 'manifest.json'), 'utf8'));
  writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), hmac: copied.hmac }));
  return { root, url, keyed, plain };
}

const steps = stepRunner({ runbook: 'verify', runId: 'run-1', step: 'verify', secrets: { store_key: { env: 'REBOUND_TEST_STORE_KEY' } } });
const runVerify = (restorePoint: string, url: string) =>
  steps.run(verify, { restore_point: restorePoint, scratch: pg.url('postgres'), storage: { url, manifest_key: { $secret: 'store_key' } } });

describe('a store with a manifest key', { timeout: 300_000 }, () => {
  it('lists, resolves and verifies only points signed with it; forged ones are reported as unsigned or bad signature', async () => {
    const f = await forgedStore();
    const signed = JSON.parse(readFileSync(join(f.root, 'orders-pg', 'postgres', SIGNED, 'manifest.json'), 'utf8'));
    expect(signed.hmac).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(signed)).not.toContain(KEY);

    const points = openRestorePoints(f.keyed);
    expect((await points.list({})).map((p) => [p.id, p.signature])).toEqual([[SIGNED, 'valid']]);
    expect((await points.latest('orders-pg', {}))?.id).toBe(SIGNED);
    expect(points.ignored().map((i) => i.reason)).toEqual(['unsigned', 'bad signature']);
    await expect(points.find(UNSIGNED)).rejects.toThrow(`restore point ${UNSIGNED} in ${f.url} is not accepted: unsigned`);

    // Without the key the store reads as before: every point, marked.
    const plain = openRestorePoints(f.plain);
    expect((await plain.list({})).map((p) => [p.id, p.signature])).toEqual([
      [BADSIG, 'unchecked'],
      [UNSIGNED, 'unsigned'],
      [SIGNED, 'unchecked'],
    ]);

    // backup.verify refuses a forged point, without retry, and never says the key.
    process.env.REBOUND_TEST_STORE_KEY = KEY;
    try {
      for (const [id, why] of [
        [UNSIGNED, 'unsigned'],
        [BADSIG, 'bad signature'],
      ] as const) {
        const error = (await runVerify(id, f.url).catch((e: unknown) => e)) as ApplicationFailure;
        expect(error, id).toBeInstanceOf(ApplicationFailure);
        expect(error.nonRetryable).toBe(true);
        expect(error.message).toContain(`restore point ${id} in ${f.url} is not accepted: ${why}`);
        expect(error.message).not.toContain(KEY);
      }
      const verified = await runVerify(SIGNED, f.url).catch((e: unknown) => e);
      // The signed point's bytes are not a real dump: it fails the test-restore, past the signature.
      expect((verified as Error).message).toMatch(/^postgres: step "verify": /);
    } finally {
      delete process.env.REBOUND_TEST_STORE_KEY;
    }
  });

  it('a verdict written without the key counts as none', async () => {
    const f = await forgedStore();
    writeFileSync(
      join(f.root, 'orders-pg', 'postgres', SIGNED, 'verification.json'),
      JSON.stringify({ status: 'verified', at: '2026-03-04T00:00:00Z', detail: 'forged', checks: [] }),
    );
    const points = openRestorePoints(f.keyed);
    expect((await points.list({})).map((p) => [p.id, p.status])).toEqual([[SIGNED, 'unverified']]);
    expect(await points.latest('orders-pg', { verified: true })).toBeUndefined();
    // A verdict Rebound records itself is signed, and counts.
    const [point] = await points.list({});
    await points.recordVerification(point!, { status: 'verified', at: '2026-03-04T00:00:00Z', detail: 'ok', checks: [] });
    expect((await points.latest('orders-pg', { verified: true }))?.id).toBe(SIGNED);
  });

  it('the catalog answers only signed points even when it was synced without the key, and sync with the key reports the forged ones', async () => {
    const f = await forgedStore();
    const catalog = { REBOUND_CATALOG_URL: pg.url('catalog') };
    const careless = await rebound(['restore-points', 'sync', '--storage', f.url], catalog);
    expect(careless.stdout, careless.stderr).toContain('indexed 3 restore point(s)');
    process.env.REBOUND_CATALOG_URL = pg.url('catalog');
    try {
      const points = openRestorePoints(f.keyed);
      expect((await points.list({})).map((p) => p.id)).toEqual([SIGNED]);
      expect((await points.latest('orders-pg', {}))?.id).toBe(SIGNED);
      expect(await points.get(BADSIG)).toBeUndefined();
    } finally {
      delete process.env.REBOUND_CATALOG_URL;
    }
    const synced = await rebound(['restore-points', 'sync', '--storage', f.url], { ...catalog, REBOUND_MANIFEST_KEY: KEY });
    expect(synced.code, synced.stderr).toBe(0);
    expect(synced.stdout).toContain('indexed 1 restore point(s)');
    expect(synced.stderr).toContain(`ignored 2 manifests: orders-pg/postgres/${UNSIGNED}/manifest.json: unsigned`);
    expect(synced.stderr).toContain(`orders-pg/postgres/${BADSIG}/manifest.json: bad signature`);
    expect(`${synced.stdout}${synced.stderr}`).not.toContain(KEY);
  });
});
