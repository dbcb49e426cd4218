// Prebuilds the interpreter's workflow bundle (npm run build:workflows), so workers and tests start without webpack.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from './worker.ts';

/** Prebuilds the workflow bundle so production workers (and tests) start without webpack. */
export async function buildWorkflowBundle(out = resolve('dist/workflow-bundle.js'), workflowsPath = WORKFLOWS_PATH): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } as never,
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, code);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await buildWorkflowBundle(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`workflow bundle written to ${out}`);
}
