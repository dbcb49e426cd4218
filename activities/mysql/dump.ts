// mysql.dump: mariadb-dump of one database in one transaction, gzipped through sha256 into a restore point, reusing a point an earlier attempt committed.
import { createGzip } from 'node:zlib';
import { commitStreamed, committedOutput, openStepPoint, streamIntoPoint } from '../restore-points/index.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { runTool } from '../runtime/tool.ts';
import { mysqlTool, optionFile, parseMysqlUrl, retryableMysqlError, toolVersion, withConnection } from './connection.ts';
import { mysqlDump } from '../../contract/actions/mysql.ts';

/** The dump's one object: gzipped unless compress is 0 (restore reads which from the name). */
export const dumpObject = (compress: number) => (compress > 0 ? 'dump.sql.gz' : 'dump.sql');

export const mysqlDumpImpl = defineImpl({
  spec: mysqlDump,
  async run(input, ctx) {
    // An earlier attempt may have committed this point and died before reporting it.
    const { id, points, draft, committed } = await openStepPoint(input.storage, input.service, 'mysql', ctx);
    if (committed) {
      ctx.log('info', `restore point ${id} was committed by an earlier attempt; reusing it`);
      return committedOutput(committed, points.keyOf(committed));
    }
    const conn = parseMysqlUrl(input.source, input.database);
    const serverVersion = await withConnection(
      conn,
      async (c) => String(((await c.query('select version() as v')) as [Array<{ v: string }>, unknown])[0][0]!.v),
      ctx.mask,
    );
    const started = new Date().toISOString();
    const command = mysqlTool('dump');
    const options = optionFile(conn);
    try {
      const args = [
        options.arg,
        // One consistent snapshot of InnoDB tables without locking writers out.
        '--single-transaction',
        '--routines',
        '--triggers',
        '--events',
        '--hex-blob',
        '--quick',
        // MySQL 8 wants PROCESS for tablespaces; a logical dump of one database needs none.
        '--no-tablespaces',
        '--default-character-set=utf8mb4',
        ...input.exclude_tables.map((t) => `--ignore-table=${conn.database}.${t}`),
        '--',
        conn.database,
        ...input.tables,
      ];
      const object = dumpObject(input.compress);
      const tool = runTool({ command, args, signal: ctx.signal, mask: ctx.mask, retryable: retryableMysqlError });
      const through = input.compress > 0 ? [createGzip({ level: input.compress })] : [];
      const { digest } = await streamIntoPoint(draft, object, { tool }, ctx, { through });
      const point = await commitStreamed(
        draft,
        { object, digest, started_at: started, input, ctx },
        {
          source: conn.identity,
          tool: { name: command.split('/').pop()!, version: toolVersion(command) },
          server_version: serverVersion,
          consistency: { mode: 'single-transaction' },
        },
      );
      ctx.log('info', `restore point ${id} of ${input.service}: ${digest.bytes} bytes`, { restore_point: id });
      return committedOutput(point, points.keyOf(point));
    } finally {
      options.remove();
    }
  },
});
