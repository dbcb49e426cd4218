// `rebound restore-points check` as a process over a file store: passing, then failing on an old point and on a failed verification.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { openRestorePoints, type RestorePoint } from '../../activities/restore-points/index.ts';
import { rebound } from '../helpers/cli.ts';

const url = `file://${mkdtempSync(join(tmpdir(), 'rebound-check-'))}`;
const points = openRestorePoints({ url, region: 'us-east-1', force_path_style: true });
const hours = (n: number) => new Date(Date.now() - n * 3_600_000).toISOString();
// No catalog: storage is listed, as on a machine that only has the bucket.
const env = { REBOUND_CATALOG_URL: '' };

async function point(service: string, id: string, completedHoursAgo: number): Promise<RestorePoint> {
  const draft = points.draft(service, 'pgdump', id);
  await draft.put('data.pgdump', Readable.from([Buffer.from('dump')]));
  return draft.commit({
    object: 'data.pgdump',
    size: 4,
    sha256: 'x',
    started_at: hours(completedHoursAgo + 0.1),
    completed_at: hours(completedHoursAgo),
    set_id: id,
    run_id: `run-${id}`,
    step: 'dump',
    source: {},
    tool: { name: 'pg_dump', version: '15' },
    server_version: '15',
    labels: {},
  });
}

const check = (...args: string[]) => rebound(['restore-points', 'check', '--storage', url, ...args], env);

describe('rebound restore-points check (process)', () => {
  it('passes when every service has a recent point, fails naming the stale or failed ones', { timeout: 300_000 }, async () => {
    const orders = await point('orders-pg', '20260101T000000Z-000000o1', 2);
    await point('inventory-pg', '20260101T000000Z-000000i1', 3);
    await points.recordVerification(orders, { status: 'verified', at: hours(1), detail: 'ok', checks: [] });

    const ok = await check('--max-age', '26h');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/orders-pg\s+ok/);
    expect((await check('--max-age', '26h', '--service', 'orders-pg', '--verified')).code).toBe(0);

    const unverified = await check('--max-age', '26h', '--verified', '--json');
    expect(unverified.code).toBe(1);
    expect(JSON.parse(unverified.stdout)).toMatchObject({
      ok: false,
      services: [{ service: 'inventory-pg', ok: false, problem: 'no verified restore point' }, { ok: true }],
    });

    const stale = await check('--max-age', '150m');
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/stale or failing: inventory-pg \(newest point is 3h(\d+m)? old \(max 2h30m\)\)/);
    expect(stale.stderr).not.toContain('orders-pg');

    const failed = await point('orders-pg', '20260101T000000Z-000000o2', 0.5);
    await points.recordVerification(failed, { status: 'failed', at: hours(0.2), detail: 'row counts differ', checks: [] });
    const broken = await check('--max-age', '26h');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('orders-pg (newest point 20260101T000000Z-000000o2 failed verification)');

    const missing = await check('--max-age', '26h', '--service', 'nobody');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nobody (no restore point)');
    expect((await check('--max-age', 'soon')).code).toBe(2);
  });
});
