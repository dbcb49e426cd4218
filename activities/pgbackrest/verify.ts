// The pgBackRest half of backup.verify: `pgbackrest verify` of the repository, then the point's backup restored into a scratch cluster, checked and removed.
import type { TestRestore } from '../restore-points/verify.ts';
import { ActionError } from '../runtime/errors.ts';
import { pgbackrest } from './command.ts';
import { recordOfPoint, restoreScratch, stanzaOf } from './restore.ts';

export const testRestore: TestRestore = async (_points, point, input, ctx) => {
  const record = recordOfPoint(point);
  const s = stanzaOf(record, input.pgbackrest);
  const verified = await pgbackrest(s, 'verify', [`--set=${record.label}`], ctx).then(
    () => ({ check: 'pgbackrest verify', ok: true, detail: `backup ${record.label} and its WAL check out in the repository` }),
    (error: unknown) => {
      // A repository that answers with a verdict is a verdict on the point; one that cannot be read is a failure to verify.
      if (error instanceof ActionError && error.code === 'backend_error') return { check: 'pgbackrest verify', ok: false, detail: error.message };
      throw error;
    },
  );
  if (!verified.ok) return [verified];
  try {
    const scratch = await restoreScratch(s, record, 'backup', input.checks, input.pgbackrest?.database ?? 'postgres', ctx);
    const restored = {
      check: 'restore',
      ok: true,
      detail: `backup ${record.label} restored and recovered to its consistent point${scratch.reached ? ` (last commit ${scratch.reached})` : ''}`,
    };
    return [verified, restored, ...scratch.checks];
  } catch (error) {
    if (error instanceof ActionError && !error.retryable) return [verified, { check: 'restore', ok: false, detail: error.message }];
    throw error;
  }
};
