// The EBS volume integration's actions and restore-point hooks, for activities/index.ts.
export { volumeSnapshotImpl } from './snapshot.ts';
export { volumeRestoreImpl } from './restore.ts';
export { pruneSnapshots, testRestore } from './points.ts';
