// Benchmark workflows: the interpreter plus hand-written twins of the P1 and P5 runbooks to measure its overhead against.
import { ActivityCancellationType, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { ActionInput, ActionResult } from '../contract/run.ts';

export { runbook } from '../workflows/interpreter.ts';

/**
 * What a person would write by hand instead of a runbook: the same activity, called n
 * times in order, with the same activity options the interpreter gives a `log` step.
 */
export async function handwritten(n: number, trust: Pick<ActionInput, 'plan_hash' | 'signature' | 'secret_paths'>): Promise<number> {
  const { log } = proxyActivities<{ log(input: ActionInput): Promise<ActionResult> }>({
    startToCloseTimeout: '10m',
    heartbeatTimeout: '30s',
    retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  });
  let done = 0;
  for (let i = 0; i < n; i++) {
    await log({
      runbook: 'handwritten',
      run_id: 'h',
      step: `s${i}`,
      backend: 'log',
      simulate: false,
      max_attempts: 3,
      with: { message: `step ${i}` },
      secrets: {},
      ...trust,
    });
    done++;
  }
  return done;
}

/**
 * P5's hand-written twin of its runbook: `http.check` on a URL, a 2 s durable sleep, a
 * `log` — the same activities with the options the interpreter gives those steps.
 */
export async function p5handwritten(url: string, trust: Pick<ActionInput, 'plan_hash' | 'signature' | 'secret_paths'>): Promise<string> {
  const actions = proxyActivities<Record<string, (input: ActionInput) => Promise<ActionResult>>>({
    startToCloseTimeout: '10m',
    heartbeatTimeout: '30s',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  });
  const base = { runbook: 'p5-hand', run_id: workflowInfo().workflowId, simulate: false, max_attempts: 3, secrets: {}, ...trust };
  await actions['http.check']!({ ...base, step: 'probe', backend: 'http', with: { url } });
  await sleep(2000);
  await actions.log!({ ...base, step: 'note', backend: 'log', with: { message: 'done' } });
  return 'ok';
}
