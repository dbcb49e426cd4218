// Which site did what in a run: each step's site (where it ran, else where the plan sent it), and per site the steps that succeeded, failed and why, and the workers that ran them.
import type { Plan, PlanStep } from '../../contract/plan.ts';
import type { StepState } from '../../contract/run.ts';
import type { TimelineEntry } from './build.ts';

export interface SiteEntry {
  site: string;
  succeeded: string[];
  /** `step: reason`, so "no worker for site primary" reads beside the step it stopped. */
  failed: string[];
  /** Skipped or cancelled, or never reached. */
  other: string[];
  workers: string[];
}

/** The run's own queue is `default` when the runbook names no site for it. */
export const DEFAULT_SITE = 'default';

/** `rebound-dr` → `dr`; `rebound` → the default site. */
function siteOfQueue(queue: string): string {
  return queue === 'rebound' ? DEFAULT_SITE : queue.replace(/^rebound-/, '');
}

/**
 * Where the step ran, else where the plan sent it (a step no worker took has no task queue);
 * undefined for a step of the run's own queue that no worker ran (an approval, a sleep: the workflow's own).
 */
export function stepSite(step: Pick<StepState, 'task_queue'>, planned: PlanStep | undefined): string | undefined {
  if (step.task_queue) return siteOfQueue(step.task_queue);
  return planned?.site;
}

/** Per site, in the order sites first appear in the timeline; absent when everything ran on one site of a runbook that names none. */
export function sitesOf(plan: Plan, timeline: TimelineEntry[]): SiteEntry[] | undefined {
  const bySite = new Map<string, SiteEntry>();
  for (const t of timeline) {
    if (!t.site) continue;
    const entry = bySite.get(t.site) ?? { site: t.site, succeeded: [], failed: [], other: [], workers: [] };
    bySite.set(t.site, entry);
    if (t.status === 'succeeded') entry.succeeded.push(t.id);
    else if (t.status === 'failed') entry.failed.push(t.reason ? `${t.id}: ${t.reason}` : t.id);
    else entry.other.push(`${t.id} (${t.status})`);
    if (t.worker && !entry.workers.includes(t.worker)) entry.workers.push(t.worker);
  }
  if (!plan.sites?.length && bySite.size <= 1) return undefined;
  return [...bySite.values()];
}
