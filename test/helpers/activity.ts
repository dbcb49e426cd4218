// Test helper: actions as activities fed hand-built inputs, signed as a trusted run would sign them (the suite's key), so tests that call an action directly pass the worker's plan check; and run in a MockActivityEnvironment.
import { createHash, sign } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { planStatement } from '../../contract/canonical.ts';
import type { ActionInput, ActionResult } from '../../contract/run.ts';
import { secretsDigest, keyFingerprint, signingKey } from '../../client/signing.ts';
import { toActivity as wrap, type ActionImpl } from '../../activities/runtime/wrap.ts';

export type { ActionImpl };

/** Where a hand-built `with:` holds secret references: those a plan's template would have put there. */
function refPaths(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (value && typeof value === 'object' && !Array.isArray(value) && ('$secret' in value || '$interpolate' in value)) return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => refPaths(v, [...at, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => refPaths(v, [...at, k]));
  return [];
}

/** The input with a plan hash of its own, the suite key's signature over it and its secret table, and its secret paths. */
export function signedInput(input: ActionInput): ActionInput {
  if (input.signature) return input;
  const key = signingKey();
  const planHash = createHash('sha256').update(`test-plan:${input.run_id}:${input.step}`).digest('hex');
  const statement = planStatement(planHash, secretsDigest(input.secrets));
  return {
    ...input,
    plan_hash: planHash,
    signature: { key: keyFingerprint(key), sig: sign(null, Buffer.from(statement), key).toString('base64') },
    secret_paths: input.secret_paths ?? refPaths(input.with),
  };
}

/** toActivity, signing each input it is handed. */
export function toActivity(impl: ActionImpl): (input: ActionInput) => Promise<ActionResult> {
  const activity = wrap(impl);
  return (input) => activity(signedInput(input));
}

/** What a test's steps have in common: the runbook and step they stand in for, their secret table, what every `with:` starts from. */
export interface StepDefaults {
  runbook: string;
  step: string;
  secrets?: ActionInput['secrets'];
  /** One run id for every input; without it each input is a run of its own (`run-1`, `run-2`, …). */
  runId?: string;
  /** Keys every `with:` starts from (storage, a cluster…), read when the input is built (after beforeAll); the test's own keys win. */
  with?: (impl: ActionImpl) => Record<string, unknown>;
  /** Sees every result (a secrets test collects them all). */
  onResult?: (result: ActionResult) => void;
}

/** An input's fields over the defaults, and the activity environment to run in (a fresh one, at `attempt`, by default). */
export type RunOptions = Partial<ActionInput> & { env?: MockActivityEnvironment; attempt?: number };

/**
 * `input(impl, with, extra)`: the ActionInput the interpreter would hand the action (not
 * simulated, three attempts) with the test's defaults; `run(impl, with, options)` runs it,
 * signed, as an activity and returns its result.
 */
export function stepRunner(defaults: StepDefaults) {
  let runs = 0;
  const input = (impl: ActionImpl, w: Record<string, unknown>, extra: Partial<ActionInput> = {}): ActionInput => ({
    runbook: defaults.runbook,
    run_id: extra.run_id ?? defaults.runId ?? `run-${++runs}`,
    step: defaults.step,
    backend: impl.spec.backend,
    simulate: false,
    max_attempts: 3,
    with: { ...defaults.with?.(impl), ...w },
    secrets: defaults.secrets ?? {},
    ...extra,
  });
  const run = async (impl: ActionImpl, w: Record<string, unknown>, options: RunOptions = {}): Promise<ActionResult> => {
    const { env, attempt, ...extra } = options;
    const environment = env ?? new MockActivityEnvironment(attempt === undefined ? undefined : { attempt });
    const result = (await environment.run(toActivity(impl), input(impl, w, extra))) as ActionResult;
    defaults.onResult?.(result);
    return result;
  };
  return { input, run };
}
