import { openIndex } from './catalog.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { defaultStorage, openStore } from './object-store.ts';
import { pointPrefix, scanPoints } from './manifest.ts';
import { findPoint } from './resolve.ts';
import { pointsToKeep } from './retention.ts';
import { catalogResolve, restorePointsPrune } from '../../contract/actions/restore-points.ts';

export const resolve = defineImpl({
  spec: catalogResolve,
  async run(input) {
    const store = openStore(input.storage ?? defaultStorage());
    const index = openIndex(store);
    try {
      const point = await findPoint(index, input.restore_point);
      return {
        restore_point_id: point.id,
        service: point.service,
        kind: point.kind,
        status: point.status,
        completed_at: point.completed_at,
        restore_point_age_ms: Date.now() - Date.parse(point.completed_at),
        object: `${pointPrefix(point.service, point.kind, point.id)}/${point.object}`,
        sha256: point.sha256,
      };
    } finally {
      await index.close();
    }
  },
});

/**
 * Retention reads storage (the truth), not the index, so a stale index never keeps a
 * point alive or deletes one it does not know. Objects go first, then index entries: a
 * crash in between leaves an index entry pointing at nothing, which sync removes.
 */
export const prune = defineImpl({
  spec: restorePointsPrune,
  async run(input, ctx) {
    const store = openStore(input.storage ?? defaultStorage());
    const points = await scanPoints(store, input.service);
    const byService = new Map<string, typeof points>();
    for (const p of points) byService.set(p.service, [...(byService.get(p.service) ?? []), p]);
    const kept: string[] = [];
    const deleted: string[] = [];
    const index = openIndex(store);
    try {
      for (const group of byService.values()) {
        const keep = pointsToKeep(group, input);
        for (const p of group) {
          if (keep.has(p.id)) {
            kept.push(p.id);
            continue;
          }
          deleted.push(p.id);
          if (input.dry_run) continue;
          // The manifest goes first, so a crash mid-delete never leaves a point half there.
          await store.deletePrefix(`${pointPrefix(p.service, p.kind, p.id)}/manifest.json`);
          await store.deletePrefix(`${pointPrefix(p.service, p.kind, p.id)}/`);
          await index.remove(p.id);
          ctx.heartbeat({ deleted: deleted.length });
        }
      }
    } finally {
      await index.close();
    }
    ctx.log('info', `retention ${input.dry_run ? '(dry run) would delete' : 'deleted'} ${deleted.length}, kept ${kept.length}`);
    return { kept, deleted, dry_run: input.dry_run };
  },
});
