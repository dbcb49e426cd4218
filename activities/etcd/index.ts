// The etcd integration's actions, for activities/index.ts.
export { ETCD_KIND, etcdSnapshotImpl } from './snapshot.ts';
export { etcdRestoreImpl } from './restore.ts';
export { testRestore } from './verify.ts';
