// postgres.restore: a restore point streamed into pg_restore in one transaction, hash-checked so a corrupt object never commits.
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Digest, openRestorePoints, restoredOutput, type RestorePoint, type RestorePoints } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { runTool } from '../runtime/tool.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { pgTool, retryablePgError, toolConnection, withClient, withDatabase } from './connection.ts';
import { postgresRestore } from '../../contract/actions/postgres.ts';

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Passes bytes on one chunk late and releases the last chunk only if `intact()` holds at
 * the end: pg_restore cannot finish the archive, so with --single-transaction nothing of a
 * corrupt object is ever committed to the target.
 */
function releaseLastIf(intact: () => boolean): Transform {
  let held: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const previous = held;
      held = chunk;
      done(null, previous);
    },
    flush(done) {
      if (!intact()) return done(new Error('the object does not match its manifest'));
      done(null, held);
    },
  });
}

/**
 * Streams a restore point's object into pg_restore, hashing it on the way; a hash that
 * does not match the manifest fails the step (not retryable: the object is corrupt) and
 * leaves the target as it was, since the restore is one transaction that never commits.
 */
export async function restoreInto(
  points: RestorePoints,
  point: RestorePoint,
  targetUrl: string,
  database: string,
  options: { clean: boolean },
  ctx: ActionContext,
): Promise<number> {
  const conn = toolConnection(targetUrl, database);
  // Opened first: if the object cannot be read, no pg_restore is left waiting on stdin.
  const source = await points.open(point);
  const tool = runTool({
    command: pgTool('pg_restore'),
    args: [
      ...conn.args,
      '--dbname',
      database,
      '--no-owner',
      '--no-privileges',
      '--single-transaction',
      '--no-password',
      ...(options.clean ? ['--clean', '--if-exists'] : []),
    ],
    env: conn.env,
    signal: ctx.signal,
    mask: ctx.mask,
    retryable: retryablePgError,
  });
  let last = 0;
  const digest = new Digest((bytes) => {
    if (Date.now() - last < 1000) return;
    last = Date.now();
    ctx.heartbeat({ bytes, of: point.size });
  });
  let readWhole = false;
  const intact = () => {
    readWhole = true;
    return digest.bytes === point.size && digest.sha256 === point.sha256;
  };
  const corrupt = () =>
    new ActionError(
      'verification_failed',
      `restore point ${point.id}: read ${digest.bytes} bytes with sha256 ${digest.sha256}; the manifest says ${point.size} bytes, ${point.sha256}`,
      { retryable: false },
    );
  const [fed, restored] = await Promise.allSettled([pipeline(source, digest, releaseLastIf(intact), tool.stdin, { signal: ctx.signal }), tool.done]);
  if (fed.status === 'rejected' || restored.status === 'rejected') {
    tool.child.kill('SIGKILL');
    if ((readWhole || digest.bytes === point.size) && (digest.bytes !== point.size || digest.sha256 !== point.sha256)) throw corrupt();
    // pg_restore's own error says why; the broken pipe that follows it does not.
    throw restored.status === 'rejected' ? restored.reason : (fed as PromiseRejectedResult).reason;
  }
  if (digest.sha256 !== point.sha256 || digest.bytes !== point.size) throw corrupt();
  return digest.bytes;
}

export async function ensureDatabase(url: string, database: string, ctx: ActionContext): Promise<void> {
  await withClient(
    withDatabase(url, 'postgres'),
    async (client) => {
      const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
      if (!exists.rowCount) await client.query(`create database ${quoteIdent(database)}`);
    },
    ctx.mask,
  );
}

export async function dropDatabase(url: string, database: string, ctx: ActionContext): Promise<void> {
  await withClient(withDatabase(url, 'postgres'), (client) => client.query(`drop database if exists ${quoteIdent(database)} with (force)`), ctx.mask);
}

export const postgresRestoreImpl = defineImpl({
  spec: postgresRestore,
  async run(input, ctx) {
    const points = openRestorePoints(input.storage);
    const point = await points.find(input.restore_point);
    if (point.kind !== 'postgres')
      throw new ActionError('invalid_input', `restore point ${point.id} is a ${point.kind} backup, not postgres`, { retryable: false });
    const database = input.database ?? toolConnection(input.target).database;
    if (input.create_database) await ensureDatabase(input.target, database, ctx);
    const bytes = await restoreInto(points, point, input.target, database, { clean: input.clean }, ctx);
    return { ...restoredOutput(point), database, restored_bytes: bytes };
  },
});
