// The EBS volume integration: snapshot and restore, and its points' test-restore and prune hook, all loaded on first use (the EC2 client weighs tens of MB).
import { spec, volumeRestore, volumeSnapshot } from '../../contract/actions/volume.ts';
import { lazyFunction, lazyImpl } from '../runtime/lazy.ts';
import { defineIntegration } from '../runtime/integration.ts';

const points = () => import('./points.ts');

export const integration = defineIntegration(spec, {
  actions: [
    lazyImpl(volumeSnapshot, async () => (await import('./snapshot.ts')).volumeSnapshotImpl),
    lazyImpl(volumeRestore, async () => (await import('./restore.ts')).volumeRestoreImpl),
  ],
  kinds: {
    'ebs-volume': { testRestore: lazyFunction(async () => (await points()).testRestore), prune: lazyFunction(async () => (await points()).prune) },
  },
});
