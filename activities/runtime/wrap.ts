// Action implementation to Temporal activity: secrets, input validation, drill simulation, heartbeats, masked failures with retry verdicts.
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { z } from 'zod';
import type { ActionSpec } from '../../contract/action.ts';
import type { DrillState } from '../../contract/resource-state.ts';
import type { ActionInput, ActionResult } from '../../contract/run.ts';
import { refuseForeignHosts } from './destinations.ts';
import { ActionError } from './errors.ts';
import { workerIdentity } from './identity.ts';
import { measured } from './metrics.ts';
import { mask, resolveSecrets, SecretUnavailableError } from './secrets.ts';
import { UntrustedPlanError, verifyStatement } from './trust.ts';

/** What an action implementation gets besides its input. */
export interface ActionContext {
  step: string;
  runbook: string;
  runId: string;
  /** Aborted when Temporal cancels the activity (it must heartbeat to learn of it). */
  signal: AbortSignal;
  heartbeat(progress?: Record<string, unknown>): void;
  log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
  /** Masks the secrets this run resolved out of any text. */
  mask(text: string): string;
  /**
   * Names the backend in failure messages from here on, for an action that learns it only
   * at run time (backup.verify: the kind of the point it found).
   */
  setBackend(name: string): void;
  /** Adds a value found inside a secret (a token in a kubeconfig) to what is masked. */
  conceal(value: string): void;
  /** What the last attempt's final heartbeat said (its progress), so a retry can skip work that attempt finished. */
  lastProgress: unknown;
  /**
   * In a simulation: the state earlier simulated steps of the run would have left on this step's
   * resource (ActionInput.drill_state). A simulate treats it as the state found, while still
   * reading the real backend for its other checks. Absent: no earlier step did; read the real one.
   */
  carried?: DrillState;
}

export interface ActionImpl<S extends ActionSpec = ActionSpec> {
  spec: S;
  run(input: z.output<S['input']>, ctx: ActionContext): Promise<z.input<S['output']>>;
  /** Checks preconditions and reports the change it would make, changing nothing. */
  simulate?(input: z.output<S['input']>, ctx: ActionContext): Promise<z.input<S['output']>>;
}

export function defineImpl<S extends ActionSpec>(impl: ActionImpl<S>): ActionImpl<S> {
  return impl;
}

function failure(input: ActionInput, backend: string, attempt: number, error: unknown, secrets: Set<string>): ApplicationFailure {
  const refused = error instanceof SecretUnavailableError || error instanceof UntrustedPlanError;
  const retryable = error instanceof ActionError ? error.retryable : !refused;
  const code = error instanceof ActionError || refused ? error.code : 'unexpected';
  const raw = error instanceof Error ? error.message : String(error);
  const last = input.max_attempts > 0 && attempt >= input.max_attempts;
  const verdict = !retryable
    ? `not retryable (attempt ${attempt})`
    : last
      ? `no attempts left (${attempt} of ${input.max_attempts})`
      : `will retry (attempt ${attempt} of ${input.max_attempts || 'unlimited'})`;
  return ApplicationFailure.create({
    message: `${backend}: step "${input.step}": ${mask(raw, secrets)} — ${verdict}`,
    type: code,
    nonRetryable: !retryable,
    details: [{ attempt, backend, step: input.step, code, worker: workerIdentity(), ...partialOf(error, secrets) }],
    ...(error instanceof ActionError && error.retryAfterMs !== undefined && retryable ? { nextRetryDelay: error.retryAfterMs } : {}),
  });
}

/**
 * Turns an action implementation into a Temporal activity: resolves secrets on the worker,
 * validates `with:` after evaluation, simulates in drills, and reports failures with the
 * backend, the step and the retry verdict — with every secret value masked.
 */
export function toActivity(impl: ActionImpl): (input: ActionInput) => Promise<ActionResult> {
  return measured(impl.spec.name, async (input: ActionInput): Promise<ActionResult> => {
    const activity = Context.current();
    const attempt = activity.info.attempt;
    const secrets = new Set<string>();
    let backend = input.backend;
    // Every action heartbeats, progress or not: cancellation only reaches an activity
    // that heartbeats, and a dead worker is noticed after one heartbeat timeout.
    let progress: Record<string, unknown> | undefined;
    const interval = Math.max(200, Math.min(5_000, (activity.info.heartbeatTimeoutMs ?? 15_000) / 3));
    const ticker = setInterval(() => activity.heartbeat(progress), interval);
    try {
      // The secret table must be the one a trusted starter signed, whoever scheduled this.
      verifyStatement(input.plan_hash ?? '', input.secrets, input.signature);
      const resolved = await resolveSecrets(input.with, input.secrets, secrets, input.secret_paths);
      const parsed = impl.spec.input.safeParse(resolved.value);
      if (!parsed.success) {
        const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'with'}: ${i.message}`).join('; ');
        throw new ActionError('invalid_input', `with: ${detail}`, { retryable: false });
      }
      refuseForeignHosts(impl.spec, input, parsed.data);
      const ctx: ActionContext = {
        step: input.step,
        runbook: input.runbook,
        runId: input.run_id,
        signal: activity.cancellationSignal,
        heartbeat: (details) => {
          progress = details;
          activity.heartbeat(details);
        },
        log: (level, message, fields) => activity.log[level](mask(message, secrets), { step: input.step, ...fields }),
        mask: (text) => mask(text, secrets),
        setBackend: (name) => {
          backend = name;
        },
        conceal: (value) => {
          if (value.length > 0) secrets.add(value);
        },
        lastProgress: activity.info.heartbeatDetails,
        ...(input.simulate && input.drill_state ? { carried: input.drill_state } : {}),
      };
      const run = input.simulate ? (impl.simulate ?? defaultSimulation(impl)) : impl.run;
      const outputs = await run.call(impl, parsed.data, ctx);
      // Outputs land in the history and in reports: no secret value may ride along.
      return { outputs: maskValue(outputs, secrets) as Record<string, unknown>, attempt, worker: workerIdentity(), task_queue: activity.info.taskQueue };
    } catch (error) {
      if (error instanceof CancelledFailure) throw error;
      if (activity.cancellationSignal.aborted) throw new CancelledFailure(`step "${input.step}" was cancelled`, [partialOf(error, secrets)]);
      throw failure(input, backend, attempt, error, secrets);
    } finally {
      clearInterval(ticker);
    }
  });
}

/** What a failed (or cancelled) production step says it may have changed, masked: it lands in the history for a failback to read. */
function partialOf(error: unknown, secrets: Set<string>): { partial?: unknown } {
  return error instanceof ActionError && error.partial ? { partial: maskValue(error.partial, secrets) } : {};
}

function maskValue(value: unknown, secrets: Set<string>): unknown {
  if (typeof value === 'string') return mask(value, secrets);
  if (Array.isArray(value)) return value.map((v) => maskValue(v, secrets));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(v, secrets)]));
  return value;
}

function defaultSimulation(impl: ActionImpl): ActionImpl['run'] {
  return async () => {
    throw new ActionError('unsupported', `${impl.spec.name} cannot be simulated; use drill: skip or give drill-safe overrides`, { retryable: false });
  };
}
