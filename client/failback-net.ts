// A failback's net change per resource: several production steps of a run on one resource (a traffic shift in steps, a switch and its return) reverted once, from the state before the first to the state after the last — or not at all when the run put it back itself.
import { ACTIONS } from '../contract/actions/registry.ts';
import { earlierState, laterState, resourceOf, sameState } from '../contract/resource-state.ts';
import type { Builder, Change, FailbackOptions, Handling } from './failback.ts';

/** The succeeded changes of one resource, oldest first, and what they add up to. */
export interface Net {
  key: string;
  members: Change[];
  /** The state before the first change (entry by entry: each unit's first `previous`). */
  previous: unknown;
  /** The state after the last (each unit's last `current`). */
  current: unknown;
}

/** A change that can join a resource's net: it succeeded and recorded the states it went between. */
function netResource(change: Change): { key: string; byEntry: boolean } | undefined {
  const outputs = change.state.outputs ?? {};
  if (change.state.status !== 'succeeded' || outputs.simulated === true || !('previous' in outputs) || !('current' in outputs)) return undefined;
  return resourceOf(ACTIONS.get(change.step.uses), change.input);
}

/**
 * The resources more than one of the run's changes went to, by their newest change (where the
 * failback, newest first, handles each), and the older changes a net takes in. Changes that
 * failed, name no resource, or are alone on theirs are handled one by one, as before.
 */
export function netsOf(newestFirst: Change[], eligible: (change: Change) => boolean): { nets: Map<Change, Net>; absorbed: Set<Change> } {
  const groups = new Map<string, { byEntry: boolean; members: Change[] }>();
  for (const change of [...newestFirst].reverse()) {
    const resource = eligible(change) ? netResource(change) : undefined;
    if (!resource) continue;
    const group = groups.get(resource.key) ?? { byEntry: resource.byEntry, members: [] };
    group.members.push(change);
    groups.set(resource.key, group);
  }
  const nets = new Map<Change, Net>();
  const absorbed = new Set<Change>();
  for (const [key, { byEntry, members }] of groups) {
    if (members.length < 2) continue;
    const states = members.map((m) => m.state.outputs!);
    const previous = states.reduce<unknown>((before, o, i) => (i === 0 ? o.previous : earlierState(byEntry, before, o.previous)), undefined);
    const current = states.reduce<unknown>((after, o, i) => (i === 0 ? o.current : laterState(byEntry, after, o.current)), undefined);
    nets.set(members.at(-1)!, { key, members, previous, current });
    members.slice(0, -1).forEach((m) => absorbed.add(m));
  }
  return { nets, absorbed };
}

const json = (value: unknown): string => JSON.stringify(value ?? null);

/** Whether a change alone could be put back automatically (or changed nothing). */
function revertible(change: Change): boolean {
  const outputs = change.state.outputs ?? {};
  return outputs.changed === false || (change.input !== undefined && ACTIONS.get(change.step.uses)?.revert?.(change.input, outputs) !== undefined);
}

/**
 * One revert for a resource's net change: back to the state before the run's first change to it,
 * guarded by the state its last change left. None when the run itself put it back (its changes
 * cancel out) or changed nothing; a person when the action cannot put the net change back.
 */
export function netHandling(net: Net, options: FailbackOptions, build: Builder): Handling {
  const { members, previous, current, key } = net;
  const last = members.at(-1)!;
  const ids = members.map((m) => m.id);
  const named = ids.map((id) => `"${id}"`).join(', ');
  const about = { resource: key, steps: ids };
  if (members.every((m) => m.state.outputs?.changed === false))
    return { ...about, action: 'unchanged', detail: `${named} found ${key} already in place and changed nothing` };
  const net_ = { ...last.state.outputs, previous, current, changed: true, simulated: false };
  const reverted = sameState(previous, current) || !last.input ? undefined : ACTIONS.get(last.step.uses)?.revert?.(last.input, net_);
  if (!reverted && (sameState(previous, current) || members.every(revertible)))
    return {
      ...about,
      action: 'restored',
      detail: `${named} left ${key} as the run found it (${json(previous)}): their changes cancel out, nothing to revert`,
    };
  const change = `net change of ${named} on ${key}: ${json(previous)} → ${json(current)}`;
  if (!reverted) {
    const message = `undo the ${change} by hand — it cannot be reverted automatically`;
    return { ...about, step: build.manual(message), action: 'manual', detail: `${change}; it cannot be reverted automatically, a person undoes it` };
  }
  const guard = options.force ? ' (--force: unguarded)' : `, guarded by the state "${last.id}" left`;
  const step = build.revert(reverted);
  return {
    ...about,
    step: { ...step, name: `revert ${ids.join(' + ')} (${last.step.uses}, their net change)` },
    action: 'revert',
    detail: `${change}; back to the state before "${members[0]!.id}" in one step${guard}`,
  };
}
