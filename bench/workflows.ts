import { proxyActivities } from '@temporalio/workflow';
import type { ActionInput, ActionResult } from '../contract/run.ts';

export { runbook } from '../workflows/interpreter.ts';

/**
 * What a person would write by hand instead of a runbook: the same activity, called n
 * times in order, with the same activity options the interpreter gives a `log` step.
 */
export async function handwritten(n: number): Promise<number> {
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
    });
    done++;
  }
  return done;
}
