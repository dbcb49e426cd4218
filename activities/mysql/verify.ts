// The MySQL half of backup.verify: test-restore into a scratch database, run checks, drop it.
import { ToolFailure } from '../runtime/tool.ts';
import { scratchUrl, type TestRestore } from '../restore-points/verify.ts';
import { runChecks } from './check.ts';
import { parseMysqlUrl, withConnection } from './connection.ts';
import { dropDatabase, restoreInto } from './restore.ts';

export const testRestore: TestRestore = async (points, point, input, ctx) => {
  const scratch = `rebound_verify_${point.id.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`.slice(0, 64);
  const conn = parseMysqlUrl(scratchUrl(input, 'mysql'), scratch);
  await dropDatabase(conn, ctx);
  try {
    await restoreInto(points, point, conn, ctx, true);
    const restored = { check: 'restore', ok: true, detail: `restored into scratch database ${scratch}` };
    return [restored, ...(await withConnection(conn, (c) => runChecks(c, input.checks, ctx.mask), ctx.mask))];
  } catch (error) {
    // A dump the client refused is a verdict on the point; anything else is a failure to verify.
    if (!(error instanceof ToolFailure) || error.retryable) throw error;
    return [{ check: 'restore', ok: false, detail: error.message }];
  } finally {
    await dropDatabase(conn, ctx).catch(() => undefined);
  }
};
