export { runbook } from './runbook.ts';
