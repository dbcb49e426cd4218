// The MongoDB integration: dump, restore and check, and backup.verify's test-restore of its points.
import { spec } from '../../contract/actions/mongodb.ts';
import { defineIntegration } from '../runtime/integration.ts';
import { mongodbCheckImpl } from './check.ts';
import { mongodbDumpImpl } from './dump.ts';
import { mongodbRestoreImpl } from './restore.ts';
import { testRestore } from './verify.ts';

export const integration = defineIntegration(spec, {
  actions: [mongodbDumpImpl, mongodbRestoreImpl, mongodbCheckImpl],
  kinds: { mongodb: { testRestore } },
});
