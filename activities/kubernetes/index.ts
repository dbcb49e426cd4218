// The Kubernetes integration's actions, for activities/index.ts.
export { k8sScaleImpl } from './scale.ts';
export { k8sWaitImpl } from './wait.ts';
export { k8sBackupImpl, NAMESPACE_KIND } from './backup.ts';
export { k8sRestoreImpl } from './restore.ts';
export { k8sSnapshotImpl } from './snapshot.ts';
export { k8sRestoreVolumeImpl } from './restore-volume.ts';
export { pruneVolumeSnapshots } from './prune.ts';
export { testRestore } from './verify.ts';
export { testRestore as testRestoreVolume } from './verify-volume.ts';
