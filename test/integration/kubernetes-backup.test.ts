// k8s.backup/k8s.restore and k8s.snapshot/k8s.restore_volume on a real control plane with CSI sidecars: round trips, corruption, rights.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { IMPLEMENTATIONS } from '../../activities/index.ts';
import { k8sBackupImpl } from '../../activities/kubernetes/backup.ts';
import { k8sRestoreImpl } from '../../activities/kubernetes/restore.ts';
import { k8sRestoreVolumeImpl } from '../../activities/kubernetes/restore-volume.ts';
import { k8sSnapshotImpl } from '../../activities/kubernetes/snapshot.ts';
import { openRestorePoints } from '../../activities/restore-points/index.ts';
import { stepRunner } from '../helpers/activity.ts';
import { SNAPSHOT_CLASS, STORAGE_CLASS, startKubernetes, type KubernetesCluster } from '../../stack/kubernetes/cluster.ts';
import { apply, comparable, deployment, getJson, namespace, tokenWithoutRights } from '../helpers/kubernetes.ts';
import { failureOf } from '../helpers/failure.ts';

let cluster: KubernetesCluster;
let storage: string;
const NS = 'orders';
const KINDS = 'configmaps,secrets,services,deployments,serviceaccounts,roles,rolebindings,widgets.example.com';

const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};

function seedNamespace(): void {
  namespace(cluster, NS);
  apply(cluster, JSON.stringify(CRD));
  cluster.kubectl(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=30s']);
  const objects = [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: NS, labels: { app: 'orders' } },
      data: { mode: 'dr', greeting: 'grüß dich, 東京' },
    },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: NS }, type: 'Opaque', stringData: { password: 'orders-db-secret' } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: NS },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'orders-app', namespace: NS } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'reader', namespace: NS },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reader', namespace: NS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'orders-app', namespace: NS }],
    },
    { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'blue', namespace: NS }, spec: { size: 3, colour: 'blue' } },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: NS },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: STORAGE_CLASS, resources: { requests: { storage: '1Gi' } } },
    },
  ];
  for (const o of objects) apply(cluster, JSON.stringify(o));
  apply(cluster, deployment('web', NS, 2));
}

beforeAll(async () => {
  cluster = await startKubernetes({ log: (line) => console.log(`[k8s] ${line}`) });
  process.env.K8S_BACKUP_KUBECONFIG = cluster.adminKubeconfig;
  storage = `file://${mkdtempSync(join(tmpdir(), 'rebound-k8s-points-'))}`;
  seedNamespace();
}, 1_800_000); // the first run builds the control plane from the Go module proxy (≈ 10 min)

afterAll(async () => {
  await cluster?.stop();
  if (storage) rmSync(new URL(storage), { recursive: true, force: true });
});

const { run } = stepRunner({
  runbook: 'nightly-backup',
  step: 'backup-namespace',
  with: () => ({ cluster: { kubeconfig: { $secret: 'kubeconfig' } }, storage: { url: storage } }),
  secrets: { kubeconfig: { env: 'K8S_BACKUP_KUBECONFIG' } },
});

describe('k8s.backup and k8s.restore', () => {
  it(
    'backs up a namespace (CRs and their CRD included, server fields gone) and restores it into another namespace equal after normalisation',
    { timeout: 120_000 },
    async () => {
      const backup = await run(k8sBackupImpl, { namespace: NS, service: 'orders-k8s' });
      expect(backup.outputs.kinds).toEqual(
        expect.arrayContaining([
          'customresourcedefinitions.apiextensions.k8s.io',
          'namespaces',
          'configmaps',
          'secrets',
          'services',
          'persistentvolumeclaims',
          'deployments.apps',
          'rolebindings.rbac.authorization.k8s.io',
          'widgets.example.com',
        ]),
      );
      // Controller-made objects (ReplicaSets, Pods, EndpointSlices) and cluster-made ones are left to their controllers.
      expect(backup.outputs.kinds).not.toContain('replicasets.apps');
      expect(backup.outputs.kinds).not.toContain('pods');
      const points = openRestorePoints({ url: storage, region: 'us-east-1', force_path_style: true });
      const point = await points.find(backup.outputs.restore_point_id as string);
      const services = gunzipSync(readFileSync(new URL(`${storage}/${points.keyOf(point, 'core/services.jsonl.gz')}`))).toString();
      expect(services).not.toMatch(/clusterIP|resourceVersion|"uid"|managedFields|"status"/);
      // backup.verify decodes what a real backup wrote: every object of its file's resource, in its namespace.
      const verify = IMPLEMENTATIONS.find((i) => i.spec.name === 'backup.verify')!;
      const checks = { tables: ['widgets.example.com', 'deployments.apps', 'rolebindings.rbac.authorization.k8s.io'] };
      // Its own with: (no cluster), in place of the defaults.
      const verified = await run(verify, {}, { with: { storage: { url: storage }, restore_point: point.id, checks } });
      expect(verified.outputs).toMatchObject({ status: 'verified' });

      const restored = await run(k8sRestoreImpl, { restore_point: backup.outputs.restore_point_id, namespace_map: { [NS]: 'orders-drill' } });
      expect(restored.outputs).toMatchObject({ namespaces: ['orders-drill'], updated: 0, skipped: 1 }); // the CRD was already there
      expect(comparable(cluster, 'orders-drill', KINDS)).toEqual(comparable(cluster, NS, KINDS));
      // The binding's subject followed its namespace; the restored Deployment runs.
      const binding = getJson<{ subjects: { namespace: string }[] }>(cluster, ['rolebinding/reader', '-n', 'orders-drill']);
      expect(binding.subjects[0]!.namespace).toBe('orders-drill');
      cluster.kubectl(['rollout', 'status', 'deployment/web', '-n', 'orders-drill', '--timeout=60s']);

      // existing: skip leaves a changed object alone; existing: update puts the backed-up one back.
      cluster.kubectl(['patch', 'configmap', 'settings', '-n', 'orders-drill', '--type=merge', '-p', '{"data":{"mode":"changed"}}']);
      const again = await run(k8sRestoreImpl, { restore_point: backup.outputs.restore_point_id, namespace_map: { [NS]: 'orders-drill' } });
      expect(again.outputs).toMatchObject({ created: 0, updated: 0 });
      expect(getJson<{ data: { mode: string } }>(cluster, ['configmap/settings', '-n', 'orders-drill']).data.mode).toBe('changed');
      await run(k8sRestoreImpl, {
        restore_point: backup.outputs.restore_point_id,
        namespace_map: { [NS]: 'orders-drill' },
        existing: 'update',
        kinds: ['configmaps'],
      });
      expect(getJson<{ data: { mode: string } }>(cluster, ['configmap/settings', '-n', 'orders-drill']).data.mode).toBe('dr');
    },
  );

  it('a flipped byte in a stored object fails the restore without retry, and nothing is applied', { timeout: 60_000 }, async () => {
    const backup = await run(k8sBackupImpl, { namespace: NS, service: 'orders-k8s-corrupt', kinds: ['configmaps'] });
    const points = openRestorePoints({ url: storage, region: 'us-east-1', force_path_style: true });
    const point = await points.find(backup.outputs.restore_point_id as string);
    const file = new URL(`${storage}/${points.keyOf(point, 'core/configmaps.jsonl.gz')}`);
    const text = gunzipSync(readFileSync(file)).toString().replace('"dr"', '"xx"');
    writeFileSync(file, gzipSync(text));
    namespace(cluster, 'orders-corrupt');
    const failure = await failureOf(run(k8sRestoreImpl, { restore_point: point.id, namespace_map: { [NS]: 'orders-corrupt' }, kinds: ['configmaps'] }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('core/configmaps.jsonl.gz: read');
    expect(failure.message).toContain('the manifest says');
    expect(() => cluster.kubectl(['get', 'configmap/settings', '-n', 'orders-corrupt'])).toThrow(/NotFound|not found/);
  });

  it('credentials that may not list the namespace fail without retry and leave no restore point', { timeout: 60_000 }, async () => {
    const token = tokenWithoutRights(cluster, NS, 'backup-no-rights');
    process.env.K8S_BACKUP_NO_RIGHTS = cluster.kubeconfigForToken(token, 'backup-no-rights');
    const failure = await failureOf(
      run(k8sBackupImpl, { namespace: NS, service: 'orders-k8s-denied' }, { secrets: { kubeconfig: { env: 'K8S_BACKUP_NO_RIGHTS' } } }),
    );
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('forbidden (403)');
    expect(failure.message).not.toContain(token);
    const points = openRestorePoints({ url: storage, region: 'us-east-1', force_path_style: true });
    expect(await points.scan('orders-k8s-denied')).toEqual([]);
  });
});

describe('k8s.snapshot and k8s.restore_volume through the CSI sidecars', () => {
  it('snapshots a PVC until readyToUse and restores its data into a new PVC in another namespace', { timeout: 180_000 }, async () => {
    cluster.kubectl(['wait', '--for=jsonpath={.status.phase}=Bound', 'pvc/data', '-n', NS, '--timeout=60s']);
    const volume = getJson<{ spec: { volumeName: string } }>(cluster, ['pvc/data', '-n', NS]).spec.volumeName;
    const handle = getJson<{ spec: { csi: { volumeHandle: string } } }>(cluster, [`pv/${volume}`]).spec.csi.volumeHandle;
    // The driver keeps each volume as a folder; write what the snapshot must carry.
    const dir = join(cluster.csiState, 'volumes', handle);
    mkdirSync(join(dir, 'pg'), { recursive: true });
    writeFileSync(join(dir, 'pg', 'PG_VERSION'), '15\n');

    const snap = await run(k8sSnapshotImpl, { namespace: NS, service: 'orders-volumes', pvcs: ['data'], snapshot_class: SNAPSHOT_CLASS, timeout: '2m' });
    const [record] = snap.outputs.snapshots as { volume_snapshot: string; handle: string; content: string }[];
    expect(record!.handle).toMatch(/^snap-/);
    expect(getJson<{ status: { readyToUse: boolean } }>(cluster, [`volumesnapshot/${record!.volume_snapshot}`, '-n', NS]).status.readyToUse).toBe(true);
    // Data written after the snapshot must not reach the restored volume.
    writeFileSync(join(dir, 'pg', 'after-snapshot'), 'no\n');

    namespace(cluster, 'orders-restore');
    const restored = await run(k8sRestoreVolumeImpl, { restore_point: snap.outputs.restore_point_id, namespace: 'orders-restore', name_suffix: '-restored' });
    const [pvc] = restored.outputs.pvcs as { name: string; volume: string }[];
    expect(pvc!.name).toBe('data-restored');
    const newHandle = getJson<{ spec: { csi: { volumeHandle: string } } }>(cluster, [`pv/${pvc!.volume}`]).spec.csi.volumeHandle;
    expect(newHandle).not.toBe(handle);
    const restoredDir = join(cluster.csiState, 'volumes', newHandle);
    expect(readFileSync(join(restoredDir, 'pg', 'PG_VERSION'), 'utf8')).toBe('15\n');
    expect(existsSync(join(restoredDir, 'pg', 'after-snapshot'))).toBe(false);

    // A retry of the same restore finds its own PVC instead of failing or making another.
    const retried = await run(k8sRestoreVolumeImpl, { restore_point: snap.outputs.restore_point_id, namespace: 'orders-restore', name_suffix: '-restored' });
    expect(retried.outputs.pvcs).toEqual(restored.outputs.pvcs);
  });

  it(
    'backup.verify checks a CSI point in its cluster and restores it into a scratch PVC it deletes; a deleted snapshot fails the point; no cluster asks for one',
    { timeout: 180_000 },
    async () => {
      const verify = IMPLEMENTATIONS.find((i) => i.spec.name === 'backup.verify')!;
      const snap = await run(k8sSnapshotImpl, { namespace: NS, service: 'volumes-verify', pvcs: ['data'], snapshot_class: SNAPSHOT_CLASS, timeout: '2m' });
      const id = snap.outputs.restore_point_id as string;
      const [record] = snap.outputs.snapshots as { volume_snapshot: string; handle: string }[];

      const none = await failureOf(run(verify, {}, { with: { restore_point: id, storage: { url: storage } } }));
      expect(none.nonRetryable).toBe(true);
      expect(none.message).toContain('its 1 VolumeSnapshot(s) are in the Kubernetes cluster at https://127.0.0.1:');
      expect(none.message).toContain('give backup.verify a cluster: {kubeconfig: <from a secret>}');

      const ok = await run(verify, { restore_point: id });
      expect(ok.outputs).toMatchObject({ status: 'verified' });
      const checks = ok.outputs.checks as { check: string; ok: boolean; detail: string }[];
      expect(checks.map((c) => [c.check, c.ok])).toEqual([
        ['sha256', true],
        ['snapshots', true],
      ]);
      expect(checks[1]!.detail).toMatch(
        /^1 VolumeSnapshot\(s\) ready on the recorded storage snapshots; scratch PVCs bound \(data → pvc-[0-9a-f-]+\) and deleted$/,
      );
      const scratch = `rebound-verify-${id.toLowerCase()}-data`;
      cluster.kubectl(['wait', '--for=delete', `pvc/${scratch}`, '-n', NS, '--timeout=60s']);
      const points = openRestorePoints({ url: storage, region: 'us-east-1', force_path_style: true });
      expect((await points.find(id)).status).toBe('verified');

      cluster.kubectl(['delete', `volumesnapshot/${record!.volume_snapshot}`, '-n', NS, '--wait=true']);
      const gone = await failureOf(run(verify, { restore_point: id }));
      expect(gone.nonRetryable).toBe(true);
      expect(gone.message).toContain(`failed verification: snapshots: VolumeSnapshot ${NS}/${record!.volume_snapshot} is gone`);
      expect((await points.find(id)).status).toBe('failed');
    },
  );

  it(
    "prune deletes the older point's VolumeSnapshot, its copy and the storage snapshot, keeps the newer; no cluster, an unreachable or a forbidden one keep the point",
    { timeout: 240_000 },
    async () => {
      const prune = IMPLEMENTATIONS.find((i) => i.spec.name === 'restore_points.prune')!;
      const take = async (n: number) =>
        (
          await run(
            k8sSnapshotImpl,
            { namespace: NS, service: 'volumes-prune', pvcs: ['data'], snapshot_class: SNAPSHOT_CLASS, timeout: '2m' },
            { run_id: `run-prune-${n}` },
          )
        ).outputs;
      const older = await take(1);
      const newer = await take(2);
      const [oldRecord] = older.snapshots as { volume_snapshot: string; handle: string; content: string }[];
      const [newRecord] = newer.snapshots as { volume_snapshot: string; handle: string }[];
      // A restore into another namespace pre-provisions a content and a VolumeSnapshot copy: prune must take them too.
      namespace(cluster, 'orders-prune-copy');
      await run(k8sRestoreVolumeImpl, { restore_point: older.restore_point_id, namespace: 'orders-prune-copy', name_suffix: '-copy' });
      const copy = `${oldRecord!.volume_snapshot}-copy`;
      expect(getJson<{ status: { readyToUse: boolean } }>(cluster, [`volumesnapshot/${copy}`, '-n', 'orders-prune-copy']).status.readyToUse).toBe(true);
      const stored = (handle: string) => existsSync(join(cluster.csiState, 'snapshots', `${handle}.tar.gz`));
      expect(stored(oldRecord!.handle)).toBe(true);
      const policy = { service: 'volumes-prune', keep_last: 0, min_keep: 1 };
      const points = () => openRestorePoints({ url: storage, region: 'us-east-1', force_path_style: true }).scan('volumes-prune');

      const none = await failureOf(run(prune, {}, { with: { ...policy, storage: { url: storage } } }));
      expect(none.nonRetryable).toBe(true);
      expect(none.message).toContain(`${older.restore_point_id} (volumes-prune, k8s-volume): its 1 VolumeSnapshot(s) are in the Kubernetes cluster at`);
      expect(none.message).toContain('give restore_points.prune a cluster: {kubeconfig: <from a secret>} (or in_cluster: true) block to delete them');

      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      process.env.K8S_PRUNE_UNREACHABLE = cluster.adminKubeconfig.replace(/server: \S+/, `server: https://127.0.0.1:${port}`);
      const down = await failureOf(run(prune, policy, { secrets: { kubeconfig: { env: 'K8S_PRUNE_UNREACHABLE' } } }));
      expect(down.nonRetryable).toBe(false);
      expect(down.message).toMatch(/^k8s-volume: step "backup-namespace": deleted none; kept 1 point\(s\) whose data outside storage could not be deleted/);
      expect(down.message).toContain(`deleting the VolumeSnapshots of point ${older.restore_point_id} in https://127.0.0.1:${port}`);
      expect(down.message).toMatch(/will retry \(attempt 1 of 3\)$/);

      const token = tokenWithoutRights(cluster, NS, 'prune-no-rights');
      process.env.K8S_PRUNE_NO_RIGHTS = cluster.kubeconfigForToken(token, 'prune-no-rights');
      const denied = await failureOf(run(prune, policy, { secrets: { kubeconfig: { env: 'K8S_PRUNE_NO_RIGHTS' } } }));
      expect(denied.nonRetryable).toBe(true);
      expect(denied.message).toContain('forbidden (403)');
      expect(denied.message).not.toContain(token);
      expect((await points()).map((p) => p.id).sort()).toEqual([older.restore_point_id, newer.restore_point_id].sort());
      expect(stored(oldRecord!.handle)).toBe(true);

      const out = await run(prune, policy);
      expect(out.outputs).toEqual({ deleted: [older.restore_point_id], kept: [newer.restore_point_id], locked: [], dry_run: false });
      expect(() => cluster.kubectl(['get', `volumesnapshot/${oldRecord!.volume_snapshot}`, '-n', NS])).toThrow(/NotFound|not found/);
      expect(() => cluster.kubectl(['get', `volumesnapshotcontent/${oldRecord!.content}`])).toThrow(/NotFound|not found/);
      expect(() => cluster.kubectl(['get', `volumesnapshot/${copy}`, '-n', 'orders-prune-copy'])).toThrow(/NotFound|not found/);
      const contents = getJson<{ items: { spec: { source: { snapshotHandle?: string } } }[] }>(cluster, ['volumesnapshotcontents']);
      expect(contents.items.filter((c) => c.spec.source.snapshotHandle === oldRecord!.handle)).toEqual([]);
      expect(stored(oldRecord!.handle)).toBe(false);
      expect(getJson<{ status: { readyToUse: boolean } }>(cluster, [`volumesnapshot/${newRecord!.volume_snapshot}`, '-n', NS]).status.readyToUse).toBe(true);
      expect(stored(newRecord!.handle)).toBe(true);
      expect((await points()).map((p) => p.id)).toEqual([newer.restore_point_id]);
    },
  );
});
