// The workflow bundle's entry: exports the runbook interpreter workflow.
export { runbook } from './interpreter.ts';
