import { Context } from '@temporalio/activity';
import { openIndex } from '../restore-points/catalog.ts';
import { pointPrefix, readPoint, restorePointId, type RestorePoint } from '../restore-points/manifest.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { runTool } from '../runtime/tool.ts';
import { Digest } from '../restore-points/digest.ts';
import { defaultStorage, openStore } from '../restore-points/object-store.ts';
import { pgTool, retryablePgError, toolConnection, toolVersion, withClient, withDatabase } from './connection.ts';
import { postgresDump } from '../../contract/actions/postgres.ts';

function progress(ctx: ActionContext) {
  let last = 0;
  return (bytes: number) => {
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    ctx.heartbeat({ bytes });
  };
}

export const dump = defineImpl({
  spec: postgresDump,
  async run(input, ctx) {
    const info = Context.current().info;
    const id = restorePointId(info.scheduledTimestampMs, ctx.runId, ctx.step);
    const storage = input.storage ?? defaultStorage();
    const store = openStore(storage);
    const prefix = pointPrefix(input.service, 'postgres', id);
    const object = `${prefix}/data.pgdump`;
    const index = openIndex(store);
    // An earlier attempt may have committed this point and died before reporting it:
    // converge on it rather than truncate a good object under its manifest.
    const committed = await readPoint(store, prefix);
    if (committed) {
      await index.record(committed);
      ctx.log('info', `restore point ${id} was committed by an earlier attempt; reusing it`);
      return { restore_point_id: id, service: input.service, object, size: committed.size, sha256: committed.sha256, storage: store.url, completed_at: committed.completed_at };
    }
    const conn = toolConnection(input.source, input.database);
    const serverVersion = await withClient(withDatabase(input.source, conn.database), async (c) => (await c.query('show server_version')).rows[0].server_version as string, ctx.mask);
    const started = new Date().toISOString();
    const command = pgTool('pg_dump');
    const args = [
      ...conn.args, '--dbname', conn.database, '--format=custom', `--compress=${input.compress}`, '--no-password',
      ...input.schemas.flatMap((s) => ['--schema', s]),
      ...input.tables.flatMap((t) => ['--table', t]),
      ...input.exclude_tables.flatMap((t) => ['--exclude-table', t]),
    ];
    const tool = runTool({ command, args, env: conn.env, signal: ctx.signal, mask: ctx.mask, retryable: retryablePgError });
    const digest = new Digest(progress(ctx));
    const upload = store.put(object, tool.stdout.pipe(digest), ctx.signal);
    try {
      await Promise.all([tool.done, upload]);
    } catch (error) {
      tool.child.kill('SIGKILL');
      await upload.catch(() => undefined);
      // No manifest was written, so this is not a restore point; remove what was uploaded.
      await store.deletePrefix(prefix).catch(() => undefined);
      throw error;
    }
    const point: RestorePoint = {
      format: 'rebound.restore-point/v1',
      id,
      service: input.service,
      kind: 'postgres',
      object: 'data.pgdump',
      size: digest.bytes,
      sha256: digest.sha256,
      started_at: started,
      completed_at: new Date().toISOString(),
      set_id: input.set_id ?? ctx.runId,
      run_id: ctx.runId,
      step: ctx.step,
      source: conn.identity,
      tool: { name: 'pg_dump', version: toolVersion(command) },
      server_version: serverVersion,
      labels: input.labels,
      storage: store.url,
      status: 'unverified',
    };
    const { status: _status, ...manifest } = point;
    // The manifest is written last: it is what makes the object a restore point.
    await store.putText(`${prefix}/manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
    await index.record(point);
    ctx.log('info', `restore point ${id} of ${input.service}: ${digest.bytes} bytes`, { restore_point: id });
    return { restore_point_id: id, service: input.service, object: `${prefix}/data.pgdump`, size: digest.bytes, sha256: digest.sha256, storage: store.url, completed_at: point.completed_at };
  },
});
