// The file store: it refuses `/` and system folders whatever the URL's dots say, and keeps what it writes private to its user (0600 files, 0700 folders).
import { mkdtempSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { StorageSchema } from '../../contract/storage.ts';
import { stepRunner } from '../../test/helpers/activity.ts';
import { catalogResolveImpl } from './actions.ts';
import { openRestorePoints } from './index.ts';
import { openStore } from './object-store.ts';

const config = (url: string) => StorageSchema.parse({ url });
/** Past the URL check (which refuses file:/// itself): what the store does with whatever reaches it. */
const raw = (url: string) => ({ url, region: 'us-east-1', force_path_style: true });

describe('a file:// store', () => {
  it.each([
    'file:///',
    'file:///.',
    'file:///..',
    'file:///etc',
    'file:///etc/rebound',
    'file:///usr/local/backups',
    'file:///bin',
    'file:///boot',
    'file:///dev/shm/x',
    'file:///proc/self',
    'file:///sys',
    'file:///var',
    'file:///var/.',
    'file:///root',
    'file:///home',
    'file:///tmp/../usr',
    'file:///srv/../etc/./x',
    `file://${homedir()}`,
  ])('refuses %s', (url) => {
    expect(() => openStore(raw(url))).toThrow(/refuses .* \((the root folder|a system folder|the worker user's home folder)/);
  });

  it('refuses file:/// already at the URL check', () => {
    expect(StorageSchema.safeParse({ url: 'file:///' }).success).toBe(false);
  });

  it('accepts a folder of its own, under /var or a temporary folder', () => {
    expect(() => openStore(config('file:///var/backups/rebound'))).not.toThrow();
    expect(() => openStore(config(`file://${mkdtempSync(join(tmpdir(), 'rebound-ok-'))}`))).not.toThrow();
  });

  it('fails a step that names file:///. as not retryable, saying why', async () => {
    const { run } = stepRunner({ runbook: 'r', runId: 'run', step: 'find' });
    const error = await run(catalogResolveImpl, { restore_point: '20260101T000000Z-00000001', storage: { url: 'file:///.' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).message).toContain('storage file:///. refuses / (the root folder)');
  });

  it('writes objects and manifests 0600 and their folders 0700', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'rebound-modes-')), 'store');
    const points = openRestorePoints(config(`file://${root}`));
    const draft = points.draft('orders-pg', 'postgres', '20260101T000000Z-0000mode');
    await draft.put('data.pgdump', Readable.from([Buffer.from('dump')]));
    await draft.put('app/orders.bson.gz', Readable.from([Buffer.from('bson')]));
    const point = await draft.commit({
      object: 'data.pgdump',
      size: 4,
      sha256: 'x',
      started_at: '2026-01-01T00:00:00Z',
      completed_at: '2026-01-01T00:00:01Z',
      set_id: 's',
      run_id: 'r',
      step: 'dump',
      source: {},
      tool: { name: 'pg_dump', version: '15' },
      server_version: '15',
      labels: {},
    });
    await points.recordVerification(point, { status: 'verified', at: '2026-01-01T00:00:02Z', detail: 'ok', checks: [] });
    const mode = (path: string) => statSync(join(root, path)).mode & 0o777;
    const folder = points.keyOf(point, '').replace(/\/$/, '');
    for (const file of ['data.pgdump', 'app/orders.bson.gz', 'manifest.json', 'verification.json']) expect(mode(`${folder}/${file}`), file).toBe(0o600);
    for (const dir of ['', 'orders-pg', 'orders-pg/postgres', folder, `${folder}/app`]) expect(mode(dir), dir || 'root').toBe(0o700);
  });
});
