// The restore-point actions that need no database: catalog.resolve, catalog.resolve_set and restore_points.prune.
import type { z } from 'zod';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { ignoredReport, openRestorePoints, type RestorePoint } from './index.ts';
import { pointsToKeep } from './retention.ts';
import { restorableFrom } from './resolve.ts';
import { catalogResolve, catalogResolveSet, restorePointsPrune } from '../../contract/actions/restore-points.ts';

export const catalogResolveImpl = defineImpl({
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
      restorable_from: restorableFrom(point),
      window: (point.consistency?.window as { from: string; to: string } | undefined) ?? null,
      // The report counts a step's rpo_ms over its point's age; null: not this step's to tell.
      ...(point.consistency?.method === 'pitr' ? { rpo_ms: null } : {}),
    };
  },
});

export const catalogResolveSetImpl = defineImpl({
  spec: catalogResolveSet,
  async run(input) {
    const points = openRestorePoints(input.storage);
    const now = Date.now();
    const set = await points.newestSet({
      before: input.before || undefined,
      services: input.services,
      verified: input.latest === 'verified',
      set_id: input.set_id,
    });
    if (!set.length) {
      const what = [
        input.latest === 'verified' ? 'verified' : 'complete',
        'set',
        input.set_id ? `with id ${input.set_id}` : '',
        input.services.length ? `holding ${input.services.join(', ')}` : '',
        input.before ? `completed before ${input.before}` : '',
      ];
      const hint = 'a set is the points of one backup run; `rebound restore-points sets` lists what there is';
      throw new ActionError('not_found', `no ${what.filter(Boolean).join(' ')} (no point failed) in ${points.url}: ${hint}`, { retryable: false });
    }
    const age = (completed: string) => now - Date.parse(completed);
    return {
      set_id: set[0]!.set_id,
      services: set.map((p) => p.service),
      points: Object.fromEntries(
        set.map((p) => [
          p.service,
          { restore_point_id: p.id, kind: p.kind, status: p.status, completed_at: p.completed_at, restore_point_age_ms: age(p.completed_at) },
        ]),
      ),
      completed_at: set
        .map((p) => p.completed_at)
        .sort()
        .at(-1)!,
      restore_point_age_ms: Math.max(...set.map((p) => age(p.completed_at))),
    };
  },
});

export type PruneInput = z.output<typeof restorePointsPrune.input>;

/**
 * Deletes what a point keeps outside storage (EBS snapshots, CSI VolumeSnapshots, search
 * snapshots). It runs before the manifest goes, so a failure leaves the point listed and
 * the next prune tries again: it must accept data that is already gone.
 */
export type PruneHook = (point: RestorePoint, input: PruneInput, ctx: ActionContext) => Promise<void>;

interface Held {
  point: RestorePoint;
  error: unknown;
}

/**
 * The points kept because their hook failed, as one failure: retryable when any of them may
 * succeed later (an unreachable cluster), not when each needs the operator (a missing block).
 */
function heldFailure(held: Held[], deleted: string[]): ActionError {
  const retryable = held.some(({ error }) => !(error instanceof ActionError) || error.retryable);
  const reasons = held.map(({ point, error }) => `${point.id} (${point.service}, ${point.kind}): ${error instanceof Error ? error.message : String(error)}`);
  const done = deleted.length ? `deleted ${deleted.length} (${deleted.join(', ')})` : 'deleted none';
  return new ActionError(
    'backend_error',
    `${done}; kept ${held.length} point(s) whose data outside storage could not be deleted — they stay listed for the next prune: ${reasons.join('; ')}`,
    { retryable },
  );
}

/**
 * Retention reads storage (the truth), not the index, so a stale index never keeps a
 * point alive or deletes one it does not know. A kind's hook deletes its external data
 * first, then objects go, then index entries: a crash in between leaves an index entry
 * pointing at nothing, which sync removes. A hook that fails keeps its point and the
 * prune goes on with the others (one unreachable cluster must not stop retention of every
 * other service); the step then fails, naming the points it kept.
 */
export function definePrune(hooks: Record<string, PruneHook>) {
  return defineImpl({
    spec: restorePointsPrune,
    async run(input, ctx) {
      const points = openRestorePoints(input.storage);
      const all = await points.scan(input.service);
      const ignored = ignoredReport(points.ignored());
      if (ignored) ctx.log('warn', `${ignored} (left in place)`);
      const byService = new Map<string, typeof all>();
      for (const p of all) byService.set(p.service, [...(byService.get(p.service) ?? []), p]);
      const kept: string[] = [];
      const deleted: string[] = [];
      const held: Held[] = [];
      const locked: { id: string; retain_until: string }[] = [];
      for (const group of byService.values()) {
        const keep = pointsToKeep(group, input);
        for (const p of group) {
          if (keep.has(p.id)) {
            kept.push(p.id);
            continue;
          }
          // Read from the signed manifest, not a HEAD per object: the manifest is locked longest.
          if (p.retain_until && Date.parse(p.retain_until) > Date.now()) {
            locked.push({ id: p.id, retain_until: p.retain_until });
            continue;
          }
          if (!input.dry_run) {
            try {
              await hooks[p.kind]?.(p, input, ctx);
            } catch (error) {
              if (ctx.signal.aborted) throw error;
              held.push({ point: p, error });
              ctx.log('warn', `kept ${p.id} of ${p.service}: ${error instanceof Error ? error.message : String(error)}`);
              continue;
            }
            await points.remove(p);
          }
          deleted.push(p.id);
          ctx.heartbeat({ deleted: deleted.length });
        }
      }
      const lockedNote = locked.length ? ` (${locked.length} locked: ${locked.map((l) => `${l.id} until ${l.retain_until}`).join(', ')})` : '';
      ctx.log(
        'info',
        `retention ${input.dry_run ? '(dry run) would delete' : 'deleted'} ${deleted.length}, kept ${kept.length + held.length + locked.length}${lockedNote}`,
      );
      if (held.length) {
        ctx.setBackend([...new Set(held.map((h) => h.point.kind))].join(', '));
        throw heldFailure(held, deleted);
      }
      return { kept, deleted, locked, dry_run: input.dry_run };
    },
  });
}
