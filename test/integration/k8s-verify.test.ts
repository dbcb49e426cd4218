// backup.verify of Kubernetes namespace points: every stored object decoded and checked against its file and the manifest, no cluster needed.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { IMPLEMENTATIONS } from '../../activities/index.ts';
import { NAMESPACE_KIND } from '../../activities/kubernetes/backup.ts';
import { listingSha256, openRestorePoints, type PointObject } from '../../activities/restore-points/index.ts';
import { stepRunner } from '../helpers/activity.ts';
import { failureOf } from '../helpers/failure.ts';

const dir = mkdtempSync(join(tmpdir(), 'rebound-k8s-verify-'));
const storage = `file://${dir}`;
const points = () => openRestorePoints({ url: storage, region: 'us-east-1', force_path_style: true });
const verify = IMPLEMENTATIONS.find((i) => i.spec.name === 'backup.verify')!;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NS = 'orders';
const meta = (name: string, namespace: string | undefined = NS) => ({ name, ...(namespace ? { namespace } : {}) });
const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gizmos.example.com' },
  spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'gizmos', singular: 'gizmo', kind: 'Widget' } },
};

/** The files of a namespace point as k8s.backup writes them (group folder, resource id, gzipped JSON lines). */
const goodFiles = (): Record<string, unknown[] | Buffer> => ({
  'apiextensions.k8s.io/customresourcedefinitions.apiextensions.k8s.io.jsonl.gz': [CRD],
  'core/namespaces.jsonl.gz': [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }],
  'core/configmaps.jsonl.gz': [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('settings'), data: { greeting: 'grüß dich, 東京' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('flags'), data: {} },
  ],
  'core/endpoints.jsonl.gz': [{ apiVersion: 'v1', kind: 'Endpoints', metadata: meta('external-db') }],
  'apps/deployments.apps.jsonl.gz': [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('web'), spec: { replicas: 2 } }],
  'networking.k8s.io/ingresses.networking.k8s.io.jsonl.gz': [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: meta('web') }],
  'networking.k8s.io/networkpolicies.networking.k8s.io.jsonl.gz': [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('deny') }],
  // A custom resource whose plural is not its kind's: only its CRD, kept in the point, says so.
  'example.com/gizmos.example.com.jsonl.gz': [{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: meta('blue') }],
});

let ids = 0;
/** Commits a point through the restore-point interface, as k8s.backup does; `documents` overrides the manifest's count per file. */
async function writePoint(service: string, files: Record<string, unknown[] | Buffer>, documents: Record<string, number> = {}): Promise<string> {
  const draft = points().draft(service, NAMESPACE_KIND, `20261127T000000Z-${String(++ids).padStart(8, '0')}`);
  const stored: PointObject[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : gzipSync(content.map((o) => JSON.stringify(o)).join('\n') + '\n');
    await draft.put(name, Readable.from([data]));
    const count = Buffer.isBuffer(content) ? 1 : content.length;
    stored.push({ name, size: data.length, sha256: createHash('sha256').update(data).digest('hex'), documents: documents[name] ?? count });
  }
  const now = new Date().toISOString();
  const point = await draft.commit({
    object: '',
    size: stored.reduce((s, o) => s + o.size, 0),
    sha256: listingSha256(stored),
    objects: stored,
    started_at: now,
    completed_at: now,
    set_id: 'set',
    run_id: 'run',
    step: 'backup-namespace',
    source: { server: 'https://127.0.0.1:6443', namespace: NS, kinds: [] },
    tool: { name: 'test', version: '0' },
    server_version: 'v1.37.2',
    labels: {},
  });
  return point.id;
}

const steps = stepRunner({ runbook: 'nightly-backup', step: 'verify-namespace', with: () => ({ storage: { url: storage } }) });
const run = (w: Record<string, unknown>) => steps.run(verify, w);

describe('backup.verify of k8s-namespace points', () => {
  it('decodes every object, matches each to its file and namespace, honours checks, and marks the point verified', async () => {
    const id = await writePoint('orders-k8s', goodFiles());
    const ok = await run({ restore_point: id, checks: { tables: ['deployments.apps', 'gizmos.example.com'], min_rows: { configmaps: 2 } } });
    expect(ok.outputs).toMatchObject({ status: 'verified' });
    expect(ok.outputs.checks).toEqual([
      { check: 'sha256', ok: true, detail: expect.stringMatching(/^8 objects, \d+ bytes match the manifest$/) },
      { check: 'objects', ok: true, detail: '9 objects in 8 resource files decode as the resources and namespace orders they are filed under' },
    ]);
    expect((await points().find(id)).status).toBe('verified');

    const asked = await failureOf(run({ restore_point: id, checks: { tables: ['secrets'], min_rows: { configmaps: 3 } } }));
    expect(asked.nonRetryable).toBe(true);
    expect(asked.message).toContain('k8s-namespace: step "verify-namespace": restore point');
    expect(asked.message).toContain('no secrets objects (checks.tables names it); 2 configmaps objects; checks.min_rows asks for at least 3');
    expect((await points().find(id)).status).toBe('failed');
  });

  it('objects of the wrong kind, group or namespace, a count unlike the manifest, and a file that is not gzip fail the point, each named', async () => {
    const files = goodFiles();
    files['core/configmaps.jsonl.gz'] = [
      { apiVersion: 'v1', kind: 'Secret', metadata: meta('settings') },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('elsewhere', 'payments') },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} },
    ];
    files['apps/deployments.apps.jsonl.gz'] = [{ apiVersion: 'extensions/v1beta1', kind: 'Deployment', metadata: meta('web') }];
    files['core/namespaces.jsonl.gz'] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: meta(NS) }];
    files['core/services.jsonl.gz'] = Buffer.from('not gzip at all');
    const id = await writePoint('orders-k8s-bad', files, { 'example.com/gizmos.example.com.jsonl.gz': 4 });
    const failure = await failureOf(run({ restore_point: id }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('verification_failed');
    for (const problem of [
      'core/configmaps.jsonl.gz: Secret/settings is not a configmaps object',
      'core/configmaps.jsonl.gz: ConfigMap/elsewhere is in namespace payments, not orders',
      'core/configmaps.jsonl.gz: an object without apiVersion, kind or metadata.name',
      'apps/deployments.apps.jsonl.gz: Deployment/web has apiVersion extensions/v1beta1, not of API group apps',
      'core/namespaces.jsonl.gz: Namespace/orders is cluster-scoped but names namespace orders',
      'example.com/gizmos.example.com.jsonl.gz holds 1 objects; the manifest says 4',
      'core/services.jsonl.gz of',
    ])
      expect(failure.message).toContain(problem);
    expect(failure.message).toMatch(/core\/services\.jsonl\.gz of \S+ cannot be read: incorrect header check/);
    const point = await points().find(id);
    expect(point.status).toBe('failed');
  });

  it('a flipped byte fails the sha256 check before any object is decoded', async () => {
    const id = await writePoint('orders-k8s-flipped', goodFiles());
    const p = points();
    const point = await p.find(id);
    const file = new URL(`${storage}/${p.keyOf(point, 'core/configmaps.jsonl.gz')}`);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(file, bytes);
    const failure = await failureOf(run({ restore_point: id }));
    expect(failure.message).toMatch(/failed verification: sha256: core\/configmaps\.jsonl\.gz: read \d+ bytes, sha256 [0-9a-f]{64}; manifest/);
    expect(failure.message).not.toContain('objects:');
  });
});
