// The Redis integration's actions, for activities/index.ts.
export { redisSnapshotImpl } from './snapshot.ts';
export { redisRestoreImpl } from './restore.ts';
export { testRestore } from './verify.ts';
