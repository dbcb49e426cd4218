// The action registry: every action a runbook may `uses:`, by name, as specs only so the compiler can import it.
import type { ActionSpec } from '../action.ts';
import { approval, childRunbook, sleep } from './builtin.ts';
import { INTEGRATIONS } from './integrations.ts';
import { backupVerify, catalogResolve, catalogResolveSet, restorePointsPrune } from './restore-points.ts';
import { trafficShift } from './traffic.ts';

/** The actions of the restore-point domain itself (activities/restore-points/), whatever integrations there are. */
const RESTORE_POINT_ACTIONS: readonly ActionSpec[] = [backupVerify, catalogResolve, catalogResolveSet, restorePointsPrune];

/** Every action a runbook may `uses:`: the interpreter's own, the restore-point domain's, each integration's. Specs only: no I/O, safe for the compiler to import. */
export const ACTIONS: ReadonlyMap<string, ActionSpec> = new Map(
  [approval, sleep, childRunbook, trafficShift, ...RESTORE_POINT_ACTIONS, ...INTEGRATIONS.flatMap((i) => i.actions)].map((a) => [a.name, a as ActionSpec]),
);
