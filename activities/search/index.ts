// The search (Elasticsearch/OpenSearch) integration's actions, for activities/index.ts.
export { searchSnapshotImpl } from './snapshot.ts';
export { searchRestoreImpl } from './restore.ts';
export { searchCheckImpl } from './check.ts';
export { testRestore } from './verify.ts';
export { pruneSearchSnapshot } from './prune.ts';
