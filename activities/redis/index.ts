// The Redis integration: snapshot and restore, replication and promotion (with reprotect as its revert), and backup.verify's test-restore of its points.
import { spec } from '../../contract/actions/redis.ts';
import { defineIntegration } from '../runtime/integration.ts';
import { redisPromoteImpl } from './promote.ts';
import { redisReplicationImpl } from './replication.ts';
import { redisRestoreImpl } from './restore.ts';
import { redisSnapshotImpl } from './snapshot.ts';
import { testRestore } from './verify.ts';

export const integration = defineIntegration(spec, {
  actions: [redisSnapshotImpl, redisRestoreImpl, redisReplicationImpl, redisPromoteImpl],
  kinds: { redis: { testRestore } },
});
