// The etcd integration: snapshot and restore, and backup.verify's test-restore of its points.
import { spec } from '../../contract/actions/etcd.ts';
import { defineIntegration } from '../runtime/integration.ts';
import { etcdRestoreImpl } from './restore.ts';
import { etcdSnapshotImpl } from './snapshot.ts';
import { testRestore } from './verify.ts';

export const integration = defineIntegration(spec, {
  actions: [etcdSnapshotImpl, etcdRestoreImpl],
  kinds: { etcd: { testRestore } },
});
