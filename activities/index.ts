import { dnsSwitchImpl } from './dns/switch.ts';
import { check, request } from './http/check.ts';
import {
  k8sBackupImpl,
  k8sRestoreImpl,
  k8sRestoreVolumeImpl,
  k8sScaleImpl,
  k8sSnapshotImpl,
  k8sWaitImpl,
  NAMESPACE_KIND,
  testRestore as k8sNamespaceTestRestore,
} from './kubernetes/index.ts';
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
import { switchRouting } from './routing/switch.ts';
import { searchCheckImpl, searchRestoreImpl, searchSnapshotImpl, testRestore as searchTestRestore } from './search/index.ts';
import { toActivity, type ActionImpl } from './runtime/wrap.ts';
import { pruneSnapshots, testRestore as volumeTestRestore, VOLUME_KIND, volumeRestoreImpl, volumeSnapshotImpl } from './volume/index.ts';

/** backup.verify test-restores each kind of point with its integration's restorer. */
const verify = defineVerify({
  postgres: postgresTestRestore,
  mongodb: mongodbTestRestore,
  redis: redisTestRestore,
  rabbitmq: rabbitmqTestRestore,
  search: searchTestRestore,
  [VOLUME_KIND]: volumeTestRestore,
  [ETCD_KIND]: etcdTestRestore,
  [NAMESPACE_KIND]: k8sNamespaceTestRestore,
});

/** Retention deletes what a point keeps outside storage with its kind's hook, before the manifest. */
const prune = definePrune({ [VOLUME_KIND]: pruneSnapshots });

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

export function createActivities(): Record<string, ReturnType<typeof toActivity>> {
  return Object.fromEntries(IMPLEMENTATIONS.map((impl) => [impl.spec.name, toActivity(impl)]));
}
