// The etcd integration's actions, for activities/index.ts.
export { etcdSnapshotImpl } from './snapshot.ts';
export { etcdRestoreImpl } from './restore.ts';
