// The Redis half of backup.verify: the RDB loaded by a scratch redis-server on the worker, its keys counted and looked up.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestRestore } from '../restore-points/verify.ts';
import { ActionError } from '../runtime/errors.ts';
import { download, scratchRestore } from './restore.ts';

/**
 * `checks.min_rows.keys` overrides the key count the snapshot recorded; `checks.tables` names
 * keys that must exist. A point the scratch server cannot load, or that lacks keys, fails.
 */
export const testRestore: TestRestore = async (points, point, input, ctx) => {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-redis-verify-'));
  try {
    await download(points, point, join(dir, 'dump.rdb'), ctx);
    const minKeys = input.checks.min_rows.keys;
    const keys = await scratchRestore(dir, point, { min_keys: minKeys, keys: input.checks.tables }, ctx);
    return [
      {
        check: 'restore',
        ok: true,
        detail: `a scratch redis-server loaded ${keys} keys${input.checks.tables.length ? `, ${input.checks.tables.join(', ')} among them` : ''}`,
      },
    ];
  } catch (error) {
    // A point that does not load or lacks keys is a verdict; anything else is a failure to verify.
    if (error instanceof ActionError && !error.retryable && error.code !== 'unsupported') return [{ check: 'restore', ok: false, detail: error.message }];
    throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
