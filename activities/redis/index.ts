// The Redis integration: snapshot and restore, and backup.verify's test-restore of its points.
import { spec } from '../../contract/actions/redis.ts';
import { defineIntegration } from '../runtime/integration.ts';
import { redisRestoreImpl } from './restore.ts';
import { redisSnapshotImpl } from './snapshot.ts';
import { testRestore } from './verify.ts';

export const integration = defineIntegration(spec, {
  actions: [redisSnapshotImpl, redisRestoreImpl],
  kinds: { redis: { testRestore } },
});
