// The Kubernetes integration: workload and restore-point actions, and its two kinds' test-restores and prune hook, all loaded on first use (the client weighs tens of MB).
import { k8sScale, k8sWait, spec } from '../../contract/actions/kubernetes.ts';
import { k8sBackup, k8sRestore, k8sRestoreVolume, k8sSnapshot } from '../../contract/actions/kubernetes-backup.ts';
import { k8sRollout } from '../../contract/actions/kubernetes-rollout.ts';
import { lazyFunction, lazyImpl } from '../runtime/lazy.ts';
import { defineIntegration } from '../runtime/integration.ts';

export const integration = defineIntegration(spec, {
  actions: [
    lazyImpl(k8sScale, async () => (await import('./scale.ts')).k8sScaleImpl, { simulate: true }),
    lazyImpl(k8sRollout, async () => (await import('./rollout.ts')).k8sRolloutImpl, { simulate: true }),
    lazyImpl(k8sWait, async () => (await import('./wait.ts')).k8sWaitImpl),
    lazyImpl(k8sBackup, async () => (await import('./backup.ts')).k8sBackupImpl),
    lazyImpl(k8sRestore, async () => (await import('./restore.ts')).k8sRestoreImpl),
    lazyImpl(k8sSnapshot, async () => (await import('./snapshot.ts')).k8sSnapshotImpl),
    lazyImpl(k8sRestoreVolume, async () => (await import('./restore-volume.ts')).k8sRestoreVolumeImpl),
  ],
  kinds: {
    'k8s-namespace': { testRestore: lazyFunction(async () => (await import('./verify.ts')).testRestore) },
    'k8s-volume': {
      testRestore: lazyFunction(async () => (await import('./verify-volume.ts')).testRestore),
      prune: lazyFunction(async () => (await import('./prune.ts')).prune),
    },
  },
});
