export { runbook } from './interpreter.ts';
