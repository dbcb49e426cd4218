// Terminal rendering: a run's live step table and drill RTO/RPO line, and `rebound plan`'s graph with the changes a run would make.
import { autoApprovals, planApprovals, voteRows } from './render-approvals.ts';
import type { Plan, PlanStep } from '../contract/plan.ts';
import { formatDuration } from '../contract/duration.ts';
import type { RunStatus, StepState } from '../contract/run.ts';
import { table } from './table.ts';

const ICON: Record<StepState['status'], string> = {
  pending: '·',
  running: '▶',
  succeeded: '✔',
  failed: '✖',
  skipped: '↷',
  cancelled: '⊘',
};

function elapsed(step: StepState, now: number): string {
  if (!step.started_at) return '';
  const end = step.ended_at ? Date.parse(step.ended_at) : now;
  return formatDuration(end - Date.parse(step.started_at));
}

/** Where a traffic shift stands while it runs: the step reached and the weights it set last. */
function shiftNote(s: StepState): string {
  if (s.uses !== 'traffic.shift' || s.status !== 'running' || !s.outputs) return '';
  const { sets = [], reached = 0 } = s.outputs as { sets?: { step: number; weights: Record<string, number> }[]; reached?: number };
  const last = sets.at(-1);
  if (!last) return 'reading the weights';
  const weights = Object.entries(last.weights)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `step ${last.step} set (${weights}); ${reached === last.step ? 'passed its analysis' : 'pausing, then its analysis'}`;
}

/** The live step table `rebound run` and `rebound status` show, cut to the terminal's width. */
export function renderStatus(status: RunStatus, now = Date.now(), width = process.stdout.columns || 160): string {
  // Which worker ran each step matters once steps run in more than one site.
  const workers = status.steps.some((s) => s.worker);
  const rows = [['', 'STEP', 'ACTION', 'PHASE', 'STATUS', 'TRY', 'TIME', ...(workers ? ['WORKER'] : []), 'NOTE']];
  for (const s of status.steps) {
    if (s.phase !== 'main' && s.status === 'pending' && status.state !== 'running') continue;
    const allowed = s.status === 'failed' && s.continue_on_error ? '(continue_on_error) ' : '';
    const note = allowed + (s.reason ?? (shiftNote(s) || (s.execution !== 'run' ? s.execution : '')));
    const worker = workers ? [s.worker ? `${s.worker}${s.task_queue ? ` (${s.task_queue})` : ''}` : ''] : [];
    rows.push([ICON[s.status], s.id, s.uses, s.phase, s.status, s.attempt ? String(s.attempt) : '', elapsed(s, now), ...worker, note]);
    for (const vote of voteRows(s)) rows.push(workers ? [...vote.slice(0, 7), '', vote[7]!] : vote);
  }
  const fit = (line: string) => (line.length > width ? `${line.slice(0, Math.max(10, width - 1))}…` : line);
  const head = `${status.runbook} [${status.mode}] — ${status.state}${status.error ? `: ${status.error}` : ''}`;
  const body = table(rows).split('\n').map(fit).join('\n');
  return `${head}\n${body}${renderNotifications(status)}${status.report ? `\n${renderReport(status)}` : ''}`;
}

/** Who was told of what (spec.notify): a failed notification is shown here, since it never fails the run. */
function renderNotifications(status: RunStatus): string {
  if (!status.notifications?.length) return '';
  const rows = [['NOTIFIED', 'STATUS', 'AT', 'NOTE']];
  for (const n of status.notifications) {
    rows.push([`${n.event}${n.step ? ` (${n.step})` : ''}`, n.status, n.at, n.status === 'sent' ? (n.channels ?? []).join(', ') : (n.reason ?? '')]);
  }
  return `\n${table(rows)}`;
}

export function renderReport(status: RunStatus): string {
  const { rto, rpo } = status.report!;
  const line = (name: string, o: { objective_ms?: number; measured_ms?: number; met?: boolean; note?: string }) =>
    `${name}: measured ${o.measured_ms !== undefined ? formatDuration(o.measured_ms) : 'n/a'}` +
    (o.objective_ms !== undefined ? `, objective ${formatDuration(o.objective_ms)}` : '') +
    (o.met === undefined ? '' : o.met ? ' — met' : ' — MISSED') +
    (o.note ? ` (${o.note})` : '');
  const auto = autoApprovals(status);
  return `drill report: ${line('RTO', rto)}; ${line('RPO', rpo)}${auto.length ? `; AUTO-APPROVED on timeout: ${auto.join(', ')}` : ''}`;
}

function edges(step: PlanStep): string {
  if (step.needs.length) return `needs ${step.needs.join(', ')}`;
  if (step.after.length) return `after ${step.after.join(', ')}`;
  return 'at once';
}

/** `rebound plan`: the graph, with both kinds of edge, and what a run would change. */
export function renderPlan(plan: Plan): string {
  const out = [`${plan.name} (${plan.mode} mode, plan ${plan.hash.slice(0, 12)})`];
  if (plan.objectives.rto_ms || plan.objectives.rpo_ms) {
    out.push(
      `objectives: RTO ${plan.objectives.rto_ms ? formatDuration(plan.objectives.rto_ms) : '-'}, RPO ${plan.objectives.rpo_ms ? formatDuration(plan.objectives.rpo_ms) : '-'}`,
    );
  }
  for (const [phase, steps] of [
    ['steps', plan.steps],
    ['on_failure', plan.on_failure],
    ['finally', plan.finally],
  ] as const) {
    if (!steps.length) continue;
    out.push('', `${phase}:`);
    const rows = [['STEP', 'ACTION', 'IMPACT', 'DOES', 'ORDER', 'IF']];
    for (const s of steps) {
      rows.push([s.id, s.uses, s.impact, s.execution, edges(s), s.if ?? '']);
      // A traffic shift's checks run after each of its steps: shown under it, where they act.
      for (const check of s.analysis ?? []) rows.push([`  ${check.id}`, check.uses, check.impact, check.execution, `after each step of ${s.id}`, '']);
    }
    out.push(table(rows).replace(/^/gm, '  '));
  }
  out.push(...planApprovals(plan));
  const changes = [...plan.steps, ...plan.on_failure, ...plan.finally].filter((s) => s.impact !== 'read' && s.execution !== 'skip');
  out.push('', changes.length ? 'changes a run would make:' : 'changes a run would make: none (every step only reads)');
  for (const s of changes) out.push(`  ${s.id}: ${s.execution === 'simulate' ? 'simulated — ' : ''}${s.uses} ${JSON.stringify(s.with)}`);
  out.push('', 'needs: a skipped or failed need skips the step; after: order only.');
  return out.join('\n');
}
