// What the SQL database integrations (PostgreSQL, MySQL) share in their contracts: a restore's target fields, what it restores over, and the check action's input.
import { z } from 'zod';
import { ChecksSchema } from './checks.ts';
import { RestorePointRefSchema } from './points.ts';

/** A restore of a database point: the point, the target server and database, whether to create it. */
export const databaseRestoreFields = {
  restore_point: RestorePointRefSchema,
  target: z.string().describe('connection URL of the target server, from a secret'),
  database: z.string().optional().describe('target database (default: the one in the URL)'),
  create_database: z.boolean().default(false).describe('create the target database if it does not exist (a scratch target)'),
};

/** Into the target's database: a restore writes over what a live database holds, and nothing un-restores it. */
export const restoresOverDatabase = (input: Record<string, unknown>, outputs: Record<string, unknown>): string =>
  `database ${String(outputs.database ?? input.database ?? 'named in the target URL')} (target ${JSON.stringify(input.target)})`;

/** A check of a restored database: tables exist, row counts, custom queries. */
export const databaseCheckInput = z.strictObject({
  target: z.string().describe('connection URL, from a secret'),
  database: z.string().optional(),
  checks: ChecksSchema,
});
