// Every action implementation the worker registers as an activity: the restore-point domain's, and each integration's (activities/integrations.ts).
import { VERIFY_PLAN_ACTIVITY } from '../contract/run.ts';
import { VERIFY_VOTE_ACTIVITY } from '../contract/approvals.ts';
import { verifyVoteActivity } from './runtime/votes.ts';
import { INTEGRATIONS } from './integrations.ts';
import { catalogResolveImpl, catalogResolveSetImpl, definePrune } from './restore-points/actions.ts';
import { defineVerify } from './restore-points/verify.ts';
import { verifyPlanActivity } from './runtime/trust-activity.ts';
import { toActivity, type ActionImpl } from './runtime/wrap.ts';

const kinds = INTEGRATIONS.flatMap((i) => Object.entries(i.kinds));

/** backup.verify test-restores each kind of point with its integration's restorer. */
const backupVerifyImpl = defineVerify(Object.fromEntries(kinds.map(([kind, k]) => [kind, k.testRestore])));

/** Retention deletes what a point keeps outside storage with its kind's hook, before the manifest. */
const restorePointsPruneImpl = definePrune(Object.fromEntries(kinds.flatMap(([kind, k]) => (k.prune ? [[kind, k.prune]] : []))));

/** Every activity-kind action, keyed by the name runbooks use (`uses:`) — the activity type. */
export const IMPLEMENTATIONS: readonly ActionImpl[] = [
  backupVerifyImpl,
  catalogResolveImpl,
  catalogResolveSetImpl,
  restorePointsPruneImpl,
  ...INTEGRATIONS.flatMap((i) => i.actions),
];

/** Every action as an activity, and the plan check the interpreter runs (as a local activity) before any of them. */
export function createActivities(): Record<string, (input: never) => Promise<unknown>> {
  return {
    ...Object.fromEntries(IMPLEMENTATIONS.map((impl) => [impl.spec.name, toActivity(impl)])),
    [VERIFY_PLAN_ACTIVITY]: verifyPlanActivity,
    [VERIFY_VOTE_ACTIVITY]: verifyVoteActivity,
  };
}
