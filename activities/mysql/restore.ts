// mysql.restore: a dump point's bytes checked against its manifest, then replayed by the mariadb client into the target database.
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Digest, openRestorePoints, restoredOutput, type RestorePoint, type RestorePoints } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { runTool } from '../runtime/tool.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { mysqlTool, optionFile, parseMysqlUrl, quoteIdent, retryableMysqlError, withConnection, type MysqlUrl } from './connection.ts';
import { mysqlRestore } from '../../contract/actions/mysql.ts';

function progress(ctx: ActionContext, phase: string, of: number): Digest {
  let last = 0;
  return new Digest((bytes) => {
    if (Date.now() - last < 1000) return;
    last = Date.now();
    ctx.heartbeat({ phase, bytes, of });
  });
}

const corrupt = (point: RestorePoint, digest: Digest) =>
  new ActionError(
    'verification_failed',
    `restore point ${point.id}: read ${digest.bytes} bytes with sha256 ${digest.sha256}; the manifest says ${point.size} bytes, ${point.sha256}`,
    { retryable: false },
  );

/**
 * Hashes the whole object before the client sees a byte of it: a SQL dump is not one
 * transaction (each table's DDL commits), so a corrupt point found at its end would leave
 * the target half replaced. The replay hashes again, for a point changed in between.
 */
async function checkObject(points: RestorePoints, point: RestorePoint, ctx: ActionContext): Promise<void> {
  const digest = progress(ctx, 'checksum', point.size);
  await pipeline(await points.open(point), digest, new Writable({ write: (_c, _e, done) => done() }), { signal: ctx.signal });
  if (digest.bytes !== point.size || digest.sha256 !== point.sha256) throw corrupt(point, digest);
}

/** Replays a checked point into `conn.database` (created first when asked); returns the bytes read. */
export async function restoreInto(points: RestorePoints, point: RestorePoint, conn: MysqlUrl, ctx: ActionContext, create = false): Promise<number> {
  await checkObject(points, point, ctx);
  if (create) await withConnection(conn, (c) => c.query(`create database if not exists ${quoteIdent(conn.database)}`), ctx.mask, { noDatabase: true });
  const options = optionFile(conn);
  try {
    const source = await points.open(point);
    const tool = runTool({
      command: mysqlTool('client'),
      args: [options.arg, '--default-character-set=utf8mb4', '--binary-mode', `--database=${conn.database}`],
      signal: ctx.signal,
      mask: ctx.mask,
      retryable: retryableMysqlError,
    });
    const digest = progress(ctx, 'restore', point.size);
    const gunzip = point.object.endsWith('.gz') ? [createGunzip()] : [];
    const [fed, replayed] = await Promise.allSettled([pipeline([source, digest, ...gunzip, tool.stdin], { signal: ctx.signal }), tool.done]);
    if (replayed.status === 'rejected') throw replayed.reason;
    if (fed.status === 'rejected') {
      tool.child.kill('SIGKILL');
      throw fed.reason;
    }
    if (digest.bytes !== point.size || digest.sha256 !== point.sha256) throw corrupt(point, digest);
    return digest.bytes;
  } finally {
    options.remove();
  }
}

export async function dropDatabase(conn: MysqlUrl, ctx: ActionContext): Promise<void> {
  await withConnection(conn, (c) => c.query(`drop database if exists ${quoteIdent(conn.database)}`), ctx.mask, { noDatabase: true });
}

export const mysqlRestoreImpl = defineImpl({
  spec: mysqlRestore,
  async run(input, ctx) {
    const points = openRestorePoints(input.storage);
    const point = await points.find(input.restore_point);
    if (point.kind !== 'mysql') throw new ActionError('invalid_input', `restore point ${point.id} is a ${point.kind} backup, not mysql`, { retryable: false });
    const conn = parseMysqlUrl(input.target, input.database);
    const bytes = await restoreInto(points, point, conn, ctx, input.create_database);
    return { ...restoredOutput(point), database: conn.database, restored_bytes: bytes };
  },
});
