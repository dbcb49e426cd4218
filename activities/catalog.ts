import type { ActionSpec } from './action.ts';
import { approval, runbook, sleep } from './builtin/schema.ts';
import { httpCheck, httpRequest } from './http/schema.ts';
import { log } from './log/schema.ts';
import { postgresCheck, postgresDump, postgresRestore } from './postgres/schema.ts';
import { backupVerify, catalogResolve, restorePointsPrune } from './restore-points/schema.ts';

/** Every action a runbook may `uses:`. Specs only: no I/O, safe for the compiler to import. */
export const ACTIONS: ReadonlyMap<string, ActionSpec> = new Map(
  [approval, sleep, runbook, httpCheck, httpRequest, log, postgresDump, postgresRestore, postgresCheck, backupVerify, catalogResolve, restorePointsPrune].map((a) => [a.name, a as ActionSpec]),
);
