// The PostgreSQL half of backup.verify: test-restore into a scratch database, run checks, drop it.
import { ToolFailure } from '../runtime/tool.ts';
import { scratchUrl, type TestRestore } from '../restore-points/verify.ts';
import { runChecks } from './check.ts';
import { withClient, withDatabase } from './connection.ts';
import { dropDatabase, ensureDatabase, restoreInto } from './restore.ts';

export const testRestore: TestRestore = async (points, point, input, ctx) => {
  const url = scratchUrl(input, 'postgres');
  const scratch = `rebound_verify_${point.id.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`.slice(0, 63);
  await dropDatabase(url, scratch, ctx);
  await ensureDatabase(url, scratch, ctx);
  try {
    await restoreInto(points, point, url, scratch, { clean: false }, ctx);
    const restored = { check: 'restore', ok: true, detail: `restored into scratch database ${scratch}` };
    return [restored, ...(await withClient(withDatabase(url, scratch), (client) => runChecks(client, input.checks, ctx.mask), ctx.mask))];
  } catch (error) {
    // A restore pg_restore refused is a verdict on the point; anything else is a failure to verify.
    if (!(error instanceof ToolFailure) || error.retryable) throw error;
    return [{ check: 'restore', ok: false, detail: error.message }];
  } finally {
    await dropDatabase(url, scratch, ctx).catch(() => undefined);
  }
};
