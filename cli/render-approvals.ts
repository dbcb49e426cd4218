// How approvals read in the CLI: each step's policy in `rebound plan` (auto-approvals called out), and each ballot under its step in `rebound status`.
import type { Plan, PlanStep } from '../contract/plan.ts';
import type { RunStatus } from '../contract/run.ts';
import { approvalPolicy as policy } from '../client/approval-policy.ts';

/** The production steps that wait for this one, directly or through others. */
function guarded(step: PlanStep, steps: PlanStep[]): PlanStep[] {
  const behind = new Set([step.id]);
  for (let grew = true; grew;) {
    grew = false;
    for (const s of steps) {
      if (!behind.has(s.id) && [...s.needs, ...s.after].some((id) => behind.has(id))) grew = behind.add(s.id).size > 0;
    }
  }
  return steps.filter((s) => s.id !== step.id && behind.has(s.id) && s.impact === 'production');
}

/** `rebound plan`'s approvals section: who decides each, and every auto-approval in front of a production change. */
export function planApprovals(plan: Plan): string[] {
  const out: string[] = [];
  for (const steps of [plan.steps, plan.on_failure, plan.finally]) {
    for (const step of steps.filter((s) => s.uses === 'approval')) {
      out.push(`  ${step.id}: ${policy(step)}`);
      const production = guarded(step, steps);
      if ((step.with as Record<string, unknown>).on_timeout === 'approve' && production.length) {
        out.push(`    AUTO-APPROVAL: if nobody decides in time, ${production.map((s) => s.id).join(', ')} run without anyone approving`);
      }
    }
  }
  return out.length ? ['', 'approvals:', ...out] : [];
}

/** The ballots of an approval step, as rows under it in the status table. */
export function voteRows(step: RunStatus['steps'][number]): string[][] {
  return (step.votes ?? []).map((v) => [
    '',
    `  ↳ ${v.by}`,
    v.decision,
    v.channel,
    v.counted ? 'counted' : 'REFUSED',
    '',
    '',
    v.counted ? v.reason : (v.refused ?? ''),
  ]);
}

/** Approval steps nobody decided that on_timeout approved: the drill report says so. */
export function autoApprovals(status: RunStatus): string[] {
  return status.steps.filter((s) => s.uses === 'approval' && s.outputs?.timed_out === true && s.outputs?.decision === 'approved').map((s) => s.id);
}
