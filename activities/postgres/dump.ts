// postgres.dump: pg_dump in custom format streamed through sha256 into a restore point, reusing a point an earlier attempt committed.
import { commitStreamed, committedOutput, openStepPoint, streamIntoPoint } from '../restore-points/index.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { runTool } from '../runtime/tool.ts';
import { pgTool, retryablePgError, toolConnection, toolVersion, withClient, withDatabase } from './connection.ts';
import { postgresDump } from '../../contract/actions/postgres.ts';

/** The dump's one object inside its restore point. */
const OBJECT = 'data.pgdump';

export const postgresDumpImpl = defineImpl({
  spec: postgresDump,
  async run(input, ctx) {
    // An earlier attempt may have committed this point and died before reporting it:
    // converge on it rather than truncate a good object under its manifest.
    const { id, points, draft, committed } = await openStepPoint(input.storage, input.service, 'postgres', ctx);
    if (committed) {
      ctx.log('info', `restore point ${id} was committed by an earlier attempt; reusing it`);
      return committedOutput(committed, points.keyOf(committed));
    }
    const conn = toolConnection(input.source, input.database);
    const serverVersion = await withClient(
      withDatabase(input.source, conn.database),
      async (c) => (await c.query('show server_version')).rows[0].server_version as string,
      ctx.mask,
    );
    const started = new Date().toISOString();
    const command = pgTool('pg_dump');
    const args = [
      ...conn.args,
      '--dbname',
      conn.database,
      '--format=custom',
      `--compress=${input.compress}`,
      '--no-password',
      ...input.schemas.flatMap((s) => ['--schema', s]),
      ...input.tables.flatMap((t) => ['--table', t]),
      ...input.exclude_tables.flatMap((t) => ['--exclude-table', t]),
    ];
    const tool = runTool({ command, args, env: conn.env, signal: ctx.signal, mask: ctx.mask, retryable: retryablePgError });
    const { digest } = await streamIntoPoint(draft, OBJECT, { tool }, ctx);
    const point = await commitStreamed(
      draft,
      { object: OBJECT, digest, started_at: started, input, ctx },
      {
        source: conn.identity,
        tool: { name: 'pg_dump', version: toolVersion(command) },
        server_version: serverVersion,
      },
    );
    ctx.log('info', `restore point ${id} of ${input.service}: ${digest.bytes} bytes`, { restore_point: id });
    return committedOutput(point, points.keyOf(point));
  },
});
