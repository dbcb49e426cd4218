import { ActionError } from '../runtime/errors.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { runChecks } from './checks.ts';
import { toolConnection, withClient, withDatabase } from './connection.ts';
import { postgresCheck } from '../../contract/actions/postgres.ts';

/** A failed check is retryable: a validation right after a restore may race replication. */
export const check = defineImpl({
  spec: postgresCheck,
  async run(input, ctx) {
    const database = input.database ?? toolConnection(input.target).database;
    const checks = await withClient(withDatabase(input.target, database), (client) => runChecks(client, input.checks, ctx.mask), ctx.mask);
    const failed = checks.filter((c) => !c.ok);
    if (failed.length) throw new ActionError('check_failed', `database ${database}: ${failed.map((c) => `${c.check}: ${c.detail}`).join('; ')}`, { retryable: true });
    return { checks };
  },
});
