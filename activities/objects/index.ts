// The object-storage replica actions, for activities/index.ts.
export { objectsCheckImpl, objectsReplicateImpl } from './replicas.ts';
