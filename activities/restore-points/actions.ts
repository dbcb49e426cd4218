// The restore-point actions that need no database: catalog.resolve and restore_points.prune.
import type { z } from 'zod';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { openRestorePoints, type RestorePoint } from './index.ts';
import { pointsToKeep } from './retention.ts';
import { catalogResolve, restorePointsPrune } from '../../contract/actions/restore-points.ts';

export const resolve = defineImpl({
  spec: catalogResolve,
  async run(input) {
    const points = openRestorePoints(input.storage);
    const point = await points.find(input.restore_point);
    return {
      restore_point_id: point.id,
      service: point.service,
      kind: point.kind,
      status: point.status,
      completed_at: point.completed_at,
      restore_point_age_ms: Date.now() - Date.parse(point.completed_at),
      object: points.keyOf(point),
      sha256: point.sha256,
    };
  },
});

export type PruneInput = z.output<typeof restorePointsPrune.input>;

/**
 * Deletes what a point keeps outside storage (EBS snapshots; CSI VolumeSnapshots could use
 * it too). It runs before the manifest goes, so a failure leaves the point listed and the
 * next prune tries again: it must accept data that is already gone.
 */
export type PruneHook = (point: RestorePoint, input: PruneInput, ctx: ActionContext) => Promise<void>;

/**
 * Retention reads storage (the truth), not the index, so a stale index never keeps a
 * point alive or deletes one it does not know. A kind's hook deletes its external data
 * first, then objects go, then index entries: a crash in between leaves an index entry
 * pointing at nothing, which sync removes.
 */
export function definePrune(hooks: Record<string, PruneHook>) {
  return defineImpl({
    spec: restorePointsPrune,
    async run(input, ctx) {
      const points = openRestorePoints(input.storage);
      const all = await points.scan(input.service);
      const byService = new Map<string, typeof all>();
      for (const p of all) byService.set(p.service, [...(byService.get(p.service) ?? []), p]);
      const kept: string[] = [];
      const deleted: string[] = [];
      for (const group of byService.values()) {
        const keep = pointsToKeep(group, input);
        for (const p of group) {
          if (keep.has(p.id)) {
            kept.push(p.id);
            continue;
          }
          deleted.push(p.id);
          if (input.dry_run) continue;
          await hooks[p.kind]?.(p, input, ctx);
          await points.remove(p);
          ctx.heartbeat({ deleted: deleted.length });
        }
      }
      ctx.log('info', `retention ${input.dry_run ? '(dry run) would delete' : 'deleted'} ${deleted.length}, kept ${kept.length}`);
      return { kept, deleted, dry_run: input.dry_run };
    },
  });
}
