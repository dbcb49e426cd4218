// The search (Elasticsearch/OpenSearch) integration: snapshot, restore and check, and its points' test-restore and prune hook (the snapshot lives in the cluster).
import { spec } from '../../contract/actions/search.ts';
import { defineIntegration } from '../runtime/integration.ts';
import { searchCheckImpl } from './check.ts';
import { prune } from './prune.ts';
import { searchRestoreImpl } from './restore.ts';
import { searchSnapshotImpl } from './snapshot.ts';
import { testRestore } from './verify.ts';

export const integration = defineIntegration(spec, {
  actions: [searchSnapshotImpl, searchRestoreImpl, searchCheckImpl],
  kinds: { search: { testRestore, prune } },
});
