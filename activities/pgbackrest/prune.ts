// The pgBackRest prune hook: the point's backup set expired by pgBackRest's own `expire --set` (Rebound never deletes repository files itself).
import type { PruneHook } from '../restore-points/actions.ts';
import { pgbackrest } from './command.ts';
import { stanzaInfo } from './info.ts';
import { recordOfPoint, stanzaOf } from './restore.ts';

export const prune: PruneHook = async (point, input, ctx) => {
  const record = recordOfPoint(point);
  const s = stanzaOf(record, input.pgbackrest);
  const info = await stanzaInfo(s, ctx);
  if (!info?.backup.some((b) => b.label === record.label)) {
    ctx.log('info', `backup ${record.label} of ${point.id} is already gone from stanza ${s.stanza}`);
    return;
  }
  // Expiring a full set also expires the diff and incr sets that depend on it, and the WAL only they needed.
  await pgbackrest(s, 'expire', [`--set=${record.label}`], ctx);
  ctx.heartbeat({ phase: 'pruning', point: point.id, label: record.label });
};
