// Unit tests of the action catalog against its implementations (the two lists of integrations, lazy ones included), of secret masking, and of the storage index's time comparisons.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { StorageIndex } from './restore-points/catalog.ts';
import { scanPoints } from './restore-points/manifest.ts';
import { openStore } from './restore-points/object-store.ts';
import { INTEGRATIONS as SPEC_LIST } from '../contract/actions/integrations.ts';
import type { IntegrationSpec } from '../contract/integration.ts';
import { ACTIONS } from '../contract/actions/registry.ts';
import { IMPLEMENTATIONS } from './index.ts';
import { INTEGRATIONS } from './integrations.ts';
import type { LazyImpl } from './runtime/lazy.ts';
import { mask, resolveSecrets } from './runtime/secrets.ts';

const SPECS: readonly IntegrationSpec[] = SPEC_LIST;

/** Client libraries a worker must not load before a step needs them (lazyImpl in their integration's index.ts). */
const HEAVY = ['@kubernetes/client-node', '@aws-sdk/client-ec2', '@aws-sdk/client-route-53', '@aws-sdk/client-elastic-load-balancing-v2'];

/** The packages a module pulls in when it is imported: its static, non-type imports, followed through our own files. */
function staticPackages(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, type, from] of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^;'"]*?\sfrom\s+)?'([^']+)';/gms)) {
      if (type) continue;
      if (from!.startsWith('.')) visit(resolve(dirname(file), from!));
      else packages.add(from!.startsWith('@') ? from!.split('/').slice(0, 2).join('/') : from!.split('/')[0]!);
    }
  };
  visit(entry);
  return packages;
}

describe('the action catalog', () => {
  it('every activity action has an implementation, and every implementation is in the catalog', () => {
    const activityActions = [...ACTIONS.values()]
      .filter((a) => a.kind === 'activity')
      .map((a) => a.name)
      .sort();
    expect(IMPLEMENTATIONS.map((i) => i.spec.name).sort()).toEqual(activityActions);
    for (const impl of IMPLEMENTATIONS) expect(ACTIONS.get(impl.spec.name)).toBe(impl.spec);
  });

  it('the contract and the worker list the same integrations, each implementing its own actions and kinds', () => {
    expect(INTEGRATIONS.map((i) => i.spec.name)).toEqual(SPECS.map((s) => s.name));
    for (const [n, integration] of INTEGRATIONS.entries()) {
      const spec = SPECS[n]!;
      expect(integration.spec, spec.name).toBe(spec);
      expect(
        integration.actions.map((a) => a.spec),
        spec.name,
      ).toEqual(spec.actions);
      expect(Object.keys(integration.kinds), spec.name).toEqual(Object.keys(spec.kinds));
      for (const [kind, fields] of Object.entries(spec.kinds))
        if (Object.keys(fields.prune ?? {}).length) expect(integration.kinds[kind]!.prune, `${kind} takes prune fields, so it has a prune hook`).toBeDefined();
    }
  });

  it('a field several kinds of point declare has one type: only its description differs', () => {
    for (const action of ['verify', 'prune'] as const) {
      const declared = new Map<string, unknown>();
      for (const spec of SPECS)
        for (const [kind, fields] of Object.entries(spec.kinds))
          for (const [name, schema] of Object.entries(fields[action] ?? {})) {
            const { description: _, ...shape } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
            if (!declared.has(name)) declared.set(name, shape);
            expect(shape, `${action} field ${name} of ${kind} points`).toEqual(declared.get(name));
          }
    }
  });

  it('a worker loads no heavy client library before a step needs it', () => {
    const loaded = staticPackages(resolve(import.meta.dirname, 'index.ts'));
    expect(HEAVY.filter((p) => loaded.has(p))).toEqual([]);
    // The walk does find them where they are imported: a walk that read nothing would pass the line above.
    expect(staticPackages(resolve(import.meta.dirname, 'volume/snapshot.ts')).has('@aws-sdk/client-ec2')).toBe(true);
    expect(staticPackages(resolve(import.meta.dirname, 'kubernetes/restore.ts')).has('@kubernetes/client-node')).toBe(true);
  });

  it('an integration loaded on first use declares the same spec and simulation as its implementation', async () => {
    const lazy = IMPLEMENTATIONS.filter((i): i is LazyImpl => 'load' in i);
    expect(lazy.length).toBeGreaterThan(0);
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
