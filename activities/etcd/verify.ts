// The etcd half of backup.verify: the snapshot restored into a scratch member on the worker, as etcd.restore's scratch mode does, its keys counted and looked up.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FailureCode } from '../../contract/failures.ts';
import type { TestRestore } from '../restore-points/verify.ts';
import { ActionError } from '../runtime/errors.ts';
import { download } from './restore.ts';
import { scratchRestore } from './scratch.ts';

/** Errors that say the verification could not be run as asked, not that the point is bad: they fail the step without a verdict. */
const NOT_A_VERDICT = new Set<FailureCode>(['unsupported', 'auth_failed']);

/**
 * `checks.min_rows.keys` overrides the key count the snapshot recorded; `checks.tables` names
 * keys that must exist. A snapshot taken with authentication needs `auth` (its auth store is restored with it).
 */
export const testRestore: TestRestore = async (points, point, input, ctx) => {
  const user = point.source.user;
  if (typeof user === 'string' && !input.auth)
    throw new ActionError(
      'invalid_input',
      `restore point ${point.id} was taken with authentication on (user ${user}), which the restored data keeps: give backup.verify auth: {user, password: from a secret}`,
      { retryable: false },
    );
  const dir = mkdtempSync(join(tmpdir(), 'rebound-etcd-verify-'));
  try {
    const file = join(dir, 'snapshot.db');
    await download(points, point, file, ctx);
    const checks = { min_keys: input.checks.min_rows.keys, keys: input.checks.tables, auth: input.auth };
    const keys = await scratchRestore(file, dir, point, checks, ctx);
    const among = input.checks.tables.length ? `, ${input.checks.tables.join(', ')} among them` : '';
    return [{ check: 'restore', ok: true, detail: `a scratch etcd member holds ${keys} keys${among}` }];
  } catch (error) {
    // A snapshot etcd refuses, or that lacks keys, is a verdict; anything else is a failure to verify.
    if (error instanceof ActionError && !error.retryable && !NOT_A_VERDICT.has(error.code)) return [{ check: 'restore', ok: false, detail: error.message }];
    throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
