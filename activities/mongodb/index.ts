// The MongoDB integration's actions and its backup.verify test-restorer, for activities/index.ts.
export { dump } from './dump.ts';
export { restore } from './restore.ts';
export { check } from './check.ts';
export { testRestore } from './verify.ts';
