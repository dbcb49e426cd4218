import { check, request } from './http/check.ts';
import { log } from './log/log.ts';
import { toActivity, type ActionImpl } from './runtime/wrap.ts';

/** Every activity-kind action, keyed by the name runbooks use (`uses:`) — the activity type. */
export const IMPLEMENTATIONS: ActionImpl[] = [check, request, log] as ActionImpl[];

export function createActivities(): Record<string, ReturnType<typeof toActivity>> {
  return Object.fromEntries(IMPLEMENTATIONS.map((impl) => [impl.spec.name, toActivity(impl)]));
}
