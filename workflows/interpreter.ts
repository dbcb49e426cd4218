// The interpreter workflow: walks a Plan, answers status queries and approval signals.
import { ApplicationFailure, CancellationScope, CancelledFailure, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { decidePatchesEarly } from './patches.ts';
import { checkTrust } from './trust.ts';
import { resolveParams } from '../contract/params.ts';
import type { Ctx } from './perform.ts';
import { runPhase, type Run } from './phases.ts';
import { approveSignal, rejectSignal, statusQuery, type Decision, type RunInput, type RunStatus, type StepState } from '../contract/run.ts';
import { MAX_BALLOTS } from './approval.ts';
import { notifierOf, type Notifier } from './notifications.ts';
import { drillReport } from './report.ts';
import { triggerOf } from './trigger.ts';

const now = (): string => new Date(Date.now()).toISOString();

/** The run's last events: how it ended, and each objective its measured time missed; then every notification's outcome, for status. */
async function tellTheEnd(notifier: Notifier, run: Run): Promise<void> {
  const { status, ctx } = run;
  const measured = drillReport(ctx.plan, status);
  if (status.state === 'failed') notifier.emit('failed', { reason: status.error ?? '' });
  else if (status.state === 'cancelled') notifier.emit('cancelled');
  else notifier.emit('succeeded', measured.rto.measured_ms !== undefined ? { measured_ms: measured.rto.measured_ms } : {});
  // Objectives are judged on a run that recovered; a failed one has said so already.
  for (const objective of status.state === 'succeeded' ? (['rto', 'rpo'] as const) : []) {
    const judged = measured[objective];
    if (judged.met === false) notifier.emit('objective_missed', { objective, measured_ms: judged.measured_ms!, objective_ms: judged.objective_ms! });
  }
  await notifier.drain();
}

/**
 * The interpreter: walks a Plan. Deterministic and free of I/O — every side effect is an
 * activity, a timer or a child workflow. Changes to its behaviour must be guarded with
 * `patched()` and covered by the replay tests in test/replay.
 */
export async function runbook(input: RunInput): Promise<RunStatus> {
  const { plan } = input;
  let params: Record<string, string | number | boolean>;
  try {
    params = resolveParams(plan, input.params ?? {});
  } catch (error) {
    throw ApplicationFailure.nonRetryable((error as Error).message, 'InvalidParameters');
  }
  const all = [...plan.steps, ...plan.on_failure, ...plan.finally];
  const states = new Map<string, StepState>(
    all.map((s) => [
      s.id,
      { id: s.id, uses: s.uses, phase: s.phase, execution: s.execution, status: 'pending', attempt: 0, continue_on_error: s.continue_on_error },
    ]),
  );
  const status: RunStatus = { runbook: plan.name, plan_hash: plan.hash, mode: plan.mode, state: 'running', started_at: now(), steps: [...states.values()] };
  const ctx: Ctx = {
    plan,
    runId: workflowInfo().workflowId,
    approvals: { decisions: new Map(), ballots: new Map(), recordsOf: (id) => (states.get(id)!.votes ??= []) },
    ...(input.started_by ? { startedBy: input.started_by } : {}),
  };

  setHandler(statusQuery, () => status);
  const decide = (decision: 'approved' | 'rejected') => (d: Decision) => {
    const state = states.get(d?.step);
    // Only a waiting approval takes ballots; late or stray ones are ignored.
    if (state?.uses !== 'approval' || state.status !== 'running') return;
    // Runs recorded before approval-policy: the first decision counts, as the signal says.
    if (!ctx.approvals.decisions.has(d.step)) ctx.approvals.decisions.set(d.step, { ...d, decision });
    const ballots = ctx.approvals.ballots.get(d.step) ?? [];
    ctx.approvals.ballots.set(d.step, ballots);
    const ballot = { decision: decision === 'approved' ? 'approve' : 'reject', by: d.by, reason: d.reason, signed: d.signed, received_at: now() } as const;
    if (ballots.length < MAX_BALLOTS) ballots.push(ballot);
  };
  setHandler(approveSignal, decide('approved'));
  setHandler(rejectSignal, decide('rejected'));

  decidePatchesEarly();
  // Before any step: a plan no trusted key signed never runs (and its secrets are never asked for).
  const refused = await checkTrust(input, ctx);
  if (refused) {
    Object.assign(status, { state: 'failed', ended_at: now(), error: refused });
    throw ApplicationFailure.nonRetryable(refused, 'UntrustedPlan', status);
  }
  const run: Run = { ctx, params, states, status, trigger: triggerOf(input) };
  ctx.progress = (id, outputs) => {
    const state = states.get(id);
    if (state) state.outputs = outputs;
  };
  const notifier = notifierOf(run);
  if (notifier) Object.assign(ctx, { notify: notifier.emit, decided: notifier.decided });
  notifier?.emit('started');
  const failed = await runPhase(run, plan.steps);
  const cancelled = !failed && CancellationScope.current().consideredCancelled;
  if (failed || cancelled) await CancellationScope.nonCancellable(() => runPhase(run, plan.on_failure));
  await CancellationScope.nonCancellable(() => runPhase(run, plan.finally));

  status.ended_at = now();
  status.state = failed ? 'failed' : cancelled ? 'cancelled' : 'succeeded';
  if (failed) status.error = `step "${failed.id}" (${failed.uses}) failed: ${failed.reason}`;
  if (plan.mode === 'drill')
    status.report = drillReport(plan, status, patched('rpo-measured-by-step'), patched('drill-state') ? (ctx.drill?.carriedFrom ?? new Map()) : undefined);
  if (notifier) await CancellationScope.nonCancellable(() => tellTheEnd(notifier, run));
  if (failed) throw ApplicationFailure.nonRetryable(status.error!, 'RunbookFailed', status);
  // Rethrowing a cancellation marks the workflow Canceled (not Failed) in Temporal.
  if (cancelled) throw new CancelledFailure('the run was cancelled', [status]);
  return status;
}
