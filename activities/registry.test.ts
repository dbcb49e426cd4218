// Unit tests of the action catalog against its implementations (lazy ones included), of secret masking, and of the storage index's time comparisons.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { StorageIndex } from './restore-points/catalog.ts';
import { scanPoints } from './restore-points/manifest.ts';
import { openStore } from './restore-points/object-store.ts';
import { ACTIONS } from '../contract/actions/registry.ts';
import { IMPLEMENTATIONS } from './index.ts';
import type { LazyImpl } from './runtime/lazy.ts';
import { mask, resolveSecrets } from './runtime/secrets.ts';

describe('the action catalog', () => {
  it('every activity action has an implementation, and every implementation is in the catalog', () => {
    const activityActions = [...ACTIONS.values()]
      .filter((a) => a.kind === 'activity')
      .map((a) => a.name)
      .sort();
    expect(IMPLEMENTATIONS.map((i) => i.spec.name).sort()).toEqual(activityActions);
    for (const impl of IMPLEMENTATIONS) expect(ACTIONS.get(impl.spec.name)).toBe(impl.spec);
  });

  it('an integration loaded on first use declares the same spec and simulation as its implementation', async () => {
    const lazy = IMPLEMENTATIONS.filter((i): i is LazyImpl => 'load' in i);
    expect(lazy.map((i) => i.spec.name).sort()).toEqual([
      'dns.switch',
      'k8s.backup',
      'k8s.restore',
      'k8s.restore_volume',
      'k8s.scale',
      'k8s.snapshot',
      'k8s.wait',
      'routing.switch',
      'volume.restore',
      'volume.snapshot',
    ]);
    for (const impl of lazy) {
      const real = await impl.load();
      expect(real.spec, impl.spec.name).toBe(impl.spec);
      expect(!!real.simulate, `${impl.spec.name} simulate`).toBe(!!impl.simulate);
    }
  });

  it('every action declares impact, backend, and input and output schemas', () => {
    for (const action of ACTIONS.values()) {
      expect(['read', 'write', 'production']).toContain(action.impact);
      expect(action.backend).toBeTruthy();
      expect(action.input.safeParse).toBeTypeOf('function');
      expect(action.output.safeParse).toBeTypeOf('function');
    }
  });
});

describe('masking', () => {
  it('masks secret values, URL-encoded values and URL passwords', () => {
    expect(mask('token=p@ss/word and p%40ss%2Fword', ['p@ss/word'])).toBe('token=*** and ***');
    expect(mask('postgres://admin:hunter2@db:5432/x failed', [])).toBe('postgres://admin:***@db:5432/x failed');
  });

  it('masks the password of a connection-URL secret when it shows up on its own', async () => {
    process.env.REBOUND_TEST_PG_URL = 'postgres://app:s%40fe-Pa55@db.internal:5432/orders';
    const { value, secrets } = await resolveSecrets({ $secret: 'pg' }, { pg: { env: 'REBOUND_TEST_PG_URL' } }, new Set(), [[]]);
    expect(value).toBe('postgres://app:s%40fe-Pa55@db.internal:5432/orders');
    expect(mask('tool said: bad password s@fe-Pa55 for app', secrets)).toBe('tool said: bad password *** for app');
    delete process.env.REBOUND_TEST_PG_URL;
  });
});

describe('the storage index', () => {
  it('compares times as times, whatever their offset', async () => {
    const store = openStore({ url: `file://${mkdtempSync(`${tmpdir()}/rebound-index-`)}`, region: 'us-east-1', force_path_style: true });
    const manifest = (id: string, completed: string) =>
      JSON.stringify({
        format: 'rebound.restore-point/v1',
        id,
        service: 's',
        kind: 'postgres',
        object: 'data.pgdump',
        size: 1,
        sha256: 'x',
        started_at: completed,
        completed_at: completed,
        set_id: id,
        run_id: id,
        step: 'dump',
        source: {},
        tool: { name: 'pg_dump', version: '15' },
        server_version: '15',
        labels: {},
        storage: store.url,
      });
    await store.putText('s/postgres/20261124T073000Z-0000earl/manifest.json', manifest('20261124T073000Z-0000earl', '2026-11-24T07:30:00.000Z'));
    await store.putText('s/postgres/20261124T093000Z-00000late/manifest.json', manifest('20261124T093000Z-00000late', '2026-11-24T09:30:00.000Z'));
    // 10:00 at +02:00 is 08:00Z: only the 07:30Z point is before it.
    const point = await new StorageIndex((service) => scanPoints(store, service)).latest('s', { before: '2026-11-24T10:00:00+02:00' });
    expect(point?.id).toBe('20261124T073000Z-0000earl');
  });
});
