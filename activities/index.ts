// Every action implementation the worker registers as an activity (heavy integrations loaded lazily), with backup.verify's restorers and prune hooks.
import { check, request } from './http/check.ts';
import { ETCD_KIND, etcdRestoreImpl, etcdSnapshotImpl, testRestore as etcdTestRestore } from './etcd/index.ts';
import { log } from './log/log.ts';
import { objectsCheckImpl, objectsReplicateImpl } from './objects/index.ts';
import { rabbitmqCheckImpl, rabbitmqExportImpl, rabbitmqImportImpl, testRestore as rabbitmqTestRestore } from './rabbitmq/index.ts';
import { redisRestoreImpl, redisSnapshotImpl, testRestore as redisTestRestore } from './redis/index.ts';
import { dump as mongodbDump, restore as mongodbRestore, check as mongodbCheck, testRestore as mongodbTestRestore } from './mongodb/index.ts';
import { dump } from './postgres/dump.ts';
import { restore } from './postgres/restore.ts';
import { check as postgresCheck } from './postgres/check.ts';
import { definePrune, resolve, resolveSet } from './restore-points/actions.ts';
import { defineVerify } from './restore-points/verify.ts';
import { testRestore as postgresTestRestore } from './postgres/verify.ts';
import { pruneSearchSnapshot, searchCheckImpl, searchRestoreImpl, searchSnapshotImpl, testRestore as searchTestRestore } from './search/index.ts';
import { toActivity, type ActionImpl } from './runtime/wrap.ts';
import { lazyFunction, lazyImpl } from './runtime/lazy.ts';
import { VOLUME_KIND } from './volume/kind.ts';
import { K8S_NAMESPACE_KIND, K8S_VOLUME_KIND } from './kubernetes/kind.ts';
import { k8sBackup, k8sRestore, k8sRestoreVolume, k8sSnapshot } from '../contract/actions/kubernetes-backup.ts';
import { k8sScale, k8sWait } from '../contract/actions/kubernetes.ts';
import { dnsSwitch } from '../contract/actions/dns.ts';
import { routingSwitch } from '../contract/actions/routing.ts';
import { volumeRestore, volumeSnapshot } from '../contract/actions/volume.ts';

import { VERIFY_PLAN_ACTIVITY } from '../contract/run.ts';
import { VERIFY_VOTE_ACTIVITY } from '../contract/approvals.ts';
import { verifyVoteActivity } from './runtime/votes.ts';
import { verifyPlanActivity } from './runtime/trust-activity.ts';

const k8s = () => import('./kubernetes/index.ts');
const volume = () => import('./volume/index.ts');
const k8sScaleImpl = lazyImpl(k8sScale, async () => (await k8s()).k8sScaleImpl, { simulate: true });
const k8sWaitImpl = lazyImpl(k8sWait, async () => (await k8s()).k8sWaitImpl);
const k8sBackupImpl = lazyImpl(k8sBackup, async () => (await k8s()).k8sBackupImpl);
const k8sRestoreImpl = lazyImpl(k8sRestore, async () => (await k8s()).k8sRestoreImpl);
const k8sSnapshotImpl = lazyImpl(k8sSnapshot, async () => (await k8s()).k8sSnapshotImpl);
const k8sRestoreVolumeImpl = lazyImpl(k8sRestoreVolume, async () => (await k8s()).k8sRestoreVolumeImpl);
const volumeSnapshotImpl = lazyImpl(volumeSnapshot, async () => (await volume()).volumeSnapshotImpl);
const volumeRestoreImpl = lazyImpl(volumeRestore, async () => (await volume()).volumeRestoreImpl);
const dnsSwitchImpl = lazyImpl(dnsSwitch, async () => (await import('./dns/switch.ts')).dnsSwitchImpl, { simulate: true });
const switchRouting = lazyImpl(routingSwitch, async () => (await import('./routing/switch.ts')).switchRouting, { simulate: true });
const volumeTestRestore = lazyFunction(async () => (await volume()).testRestore);
const pruneSnapshots = lazyFunction(async () => (await volume()).pruneSnapshots);
const pruneVolumeSnapshots = lazyFunction(async () => (await k8s()).pruneVolumeSnapshots);
const k8sNamespaceTestRestore = lazyFunction(async () => (await k8s()).testRestore);
const k8sVolumeTestRestore = lazyFunction(async () => (await k8s()).testRestoreVolume);

/** backup.verify test-restores each kind of point with its integration's restorer. */
const verify = defineVerify({
  postgres: postgresTestRestore,
  mongodb: mongodbTestRestore,
  redis: redisTestRestore,
  rabbitmq: rabbitmqTestRestore,
  search: searchTestRestore,
  [VOLUME_KIND]: volumeTestRestore,
  [ETCD_KIND]: etcdTestRestore,
  [K8S_NAMESPACE_KIND]: k8sNamespaceTestRestore,
  [K8S_VOLUME_KIND]: k8sVolumeTestRestore,
});

/** Retention deletes what a point keeps outside storage with its kind's hook, before the manifest. */
const prune = definePrune({ [VOLUME_KIND]: pruneSnapshots, [K8S_VOLUME_KIND]: pruneVolumeSnapshots, search: pruneSearchSnapshot });

/** Every activity-kind action, keyed by the name runbooks use (`uses:`) — the activity type. */
export const IMPLEMENTATIONS: ActionImpl[] = [
  check,
  request,
  log,
  dump,
  restore,
  postgresCheck,
  verify,
  resolve,
  resolveSet,
  prune,
  switchRouting,
  dnsSwitchImpl,
  mongodbDump,
  mongodbRestore,
  mongodbCheck,
  k8sScaleImpl,
  k8sWaitImpl,
  k8sBackupImpl,
  k8sRestoreImpl,
  k8sSnapshotImpl,
  k8sRestoreVolumeImpl,
  redisSnapshotImpl,
  redisRestoreImpl,
  etcdSnapshotImpl,
  etcdRestoreImpl,
  objectsCheckImpl,
  objectsReplicateImpl,
  volumeSnapshotImpl,
  volumeRestoreImpl,
  rabbitmqExportImpl,
  rabbitmqImportImpl,
  rabbitmqCheckImpl,
  searchSnapshotImpl,
  searchRestoreImpl,
  searchCheckImpl,
] as ActionImpl[];

/** Every action as an activity, and the plan check the interpreter runs (as a local activity) before any of them. */
export function createActivities(): Record<string, (input: never) => Promise<unknown>> {
  return {
    ...Object.fromEntries(IMPLEMENTATIONS.map((impl) => [impl.spec.name, toActivity(impl)])),
    [VERIFY_PLAN_ACTIVITY]: verifyPlanActivity,
    [VERIFY_VOTE_ACTIVITY]: verifyVoteActivity,
  };
}
