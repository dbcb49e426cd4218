// postgres.reprotect: the old primary, on this worker's host, rejoins as a standby of the new one — checked, stopped, pg_rewind, standby.signal and primary_conninfo, started, waited on until it streams; a drill checks and changes nothing.
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { z } from 'zod';
import { parseDuration } from '../../contract/duration.ts';
import { postgresReprotect } from '../../contract/actions/postgres-replication.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { withClient } from './connection.ts';
import { controlData, exec, localCluster, running, start, stop, tail, type LocalCluster } from './local-server.ts';
import { readRole, serverName, type ServerRole } from './server-state.ts';
import { conninfo, sourceOf, writeStandbyConfig, type Source } from './standby-config.ts';

type Input = z.output<typeof postgresReprotect.input>;
type Output = z.input<typeof postgresReprotect.output>;

/** What the step finds before it changes anything. */
interface Found {
  cluster: LocalCluster;
  state: string;
  running: boolean;
  source: Source;
  name: string;
  primary: ServerRole;
  /** The new primary already streams to a standby of this application_name (a retry after a crash). */
  following?: string | null;
  proved: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const conflict = (message: string) => new ActionError('conflict', message, { retryable: false });

function rewindable(control: Record<string, string>, dataDir: string): string {
  const hints = control['wal_log_hints setting'] === 'on';
  const checksums = (control['Data page checksum version'] ?? '0') !== '0';
  if (!hints && !checksums) {
    throw new ActionError(
      'unsupported',
      `${dataDir} has neither wal_log_hints=on nor data checksums, so pg_rewind cannot rewind it: rebuild it from a base backup`,
      {
        retryable: false,
      },
    );
  }
  return `pg_rewind can rewind ${dataDir} (${hints ? 'wal_log_hints=on' : 'data checksums'})`;
}

/** The new primary: a primary, on the expected timeline, the same system, full_page_writes on; whether it already streams to us. */
async function readSource(input: Input, control: Record<string, string>, name: string, ctx: ActionContext) {
  return withClient(
    input.source,
    async (client) => {
      const primary = await readRole(client);
      if (primary.standby) throw conflict(`the new primary ${name} is in recovery itself: a standby can only follow a primary`);
      const expected = input.expect_current?.timeline;
      if (expected !== undefined && primary.timeline !== expected)
        throw conflict(`the new primary ${name} is on timeline ${primary.timeline}, not ${expected}: it changed since the promotion, so nothing was stopped`);
      const system = control['Database system identifier'];
      if (primary.system && system && primary.system !== system)
        throw new ActionError('invalid_input', `${input.data_dir} (system ${system}) is not a copy of ${name}'s cluster (system ${primary.system})`, {
          retryable: false,
        });
      const fpw = (await client.query('show full_page_writes')).rows[0].full_page_writes as string;
      if (fpw !== 'on') throw new ActionError('unsupported', `the new primary ${name} has full_page_writes off: pg_rewind needs it on`, { retryable: false });
      const { rows } = await client.query("select replay_lsn::text as lsn from pg_stat_replication where application_name = $1 and state = 'streaming'", [
        input.application_name,
      ]);
      return { primary, following: rows.length ? ((rows[0].lsn as string | null) ?? null) : undefined };
    },
    ctx.mask,
  );
}

async function inspect(input: Input, ctx: ActionContext): Promise<Found> {
  const cluster = localCluster(input.data_dir, input.run_as);
  const control = await controlData(cluster, ctx);
  const proved = [rewindable(control, input.data_dir)];
  const isRunning = await running(cluster, ctx);
  const name = serverName(input.source);
  const { primary, following } = await readSource(input, control, name, ctx);
  proved.push(`the new primary ${name} is a primary on timeline ${primary.timeline ?? 'unknown'} with full_page_writes on`);
  const state = control['Database cluster state'] ?? 'unknown';
  return { cluster, state, running: isRunning, source: sourceOf(input.source), name, primary, following, proved };
}

/** pg_rewind learns the new timeline from the new primary's control file, which a promotion updates only at its checkpoint. */
async function checkpoint(input: Input, name: string, ctx: ActionContext): Promise<void> {
  await withClient(input.source, (c) => c.query('checkpoint'), ctx.mask).catch((error: Error & { code?: string }) => {
    if (error instanceof ActionError) throw error;
    const message = `CHECKPOINT on the new primary ${name} failed (pg_rewind needs it): ${ctx.mask(error.message)}`;
    // Only a superuser or a member of pg_checkpoint may: waiting will not grant it.
    throw new ActionError(error.code === '42501' ? 'auth_failed' : 'backend_error', message, { retryable: error.code !== '42501' });
  });
}

function rewindFailure(text: string, dataDir: string): ActionError {
  const message = `pg_rewind of ${dataDir} failed: ${text}`;
  if (/password authentication failed|permission denied|must be superuser/i.test(text)) return new ActionError('auth_failed', message, { retryable: false });
  if (/could not connect|connection refused|timeout expired/i.test(text)) return new ActionError('unreachable', message, { retryable: true });
  if (/different systems|wal_log_hints|data checksums/i.test(text)) return new ActionError('unsupported', message, { retryable: false });
  return new ActionError('backend_error', `${message} (if it fails again, rebuild the cluster from a base backup)`, { retryable: true });
}

/** pg_rewind from the new primary; the password only in its environment. Resolves whether it rewrote anything. */
async function rewind(f: Found, ctx: ActionContext): Promise<boolean> {
  const source = conninfo(f.source, { dbname: f.source.database, application_name: 'rebound_pg_rewind' });
  ctx.heartbeat({ phase: 'pg_rewind', data_dir: f.cluster.dataDir });
  const r = await exec(f.cluster, 'pg_rewind', ['--target-pgdata', f.cluster.dataDir, '--source-server', source], ctx, {
    PGPASSWORD: f.source.password,
    PGCONNECT_TIMEOUT: '10',
  });
  if (r.code !== 0) throw rewindFailure(ctx.mask(tail(r)), f.cluster.dataDir);
  return !/no rewind required/i.test(r.stdout + r.stderr);
}

/** Waits until the new primary's pg_stat_replication shows this standby streaming; its replay LSN then. */
async function streaming(input: Input, f: Found, log: string, ctx: ActionContext): Promise<string | null> {
  const deadline = Date.now() + parseDuration(input.wait_timeout)!;
  for (;;) {
    const { following } = await readSource(input, {}, f.name, ctx).catch(() => ({ following: undefined }));
    if (following !== undefined) return following;
    if (!(await running(f.cluster, ctx)))
      throw new ActionError('backend_error', `${input.data_dir} stopped after it was started as a standby of ${f.name}; see ${log}`, { retryable: true });
    if (Date.now() > deadline)
      throw new ActionError('timeout', `${input.data_dir} did not stream from ${f.name} within ${input.wait_timeout}`, { retryable: true });
    ctx.heartbeat({ phase: 'waiting for streaming', data_dir: input.data_dir });
    await sleep(500);
  }
}

function output(input: Input, f: Found, fields: Pick<Output, 'changed' | 'simulated' | 'stopped' | 'rewound' | 'streaming_lsn'> & Partial<Output>): Output {
  return {
    data_dir: input.data_dir,
    source: f.name,
    previous: { state: f.state, running: f.running },
    current: { role: 'standby', following: f.name, timeline: f.primary.timeline },
    ...fields,
  };
}

/** A retry that finds the work done still reports a change: its earlier attempt made it. */
function attempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1; // not inside an activity
  }
}

export const postgresReprotectImpl = defineImpl({
  spec: postgresReprotect,
  async run(input, ctx) {
    const f = await inspect(input, ctx);
    if (f.running && f.following !== undefined && /in archive recovery/.test(f.state)) {
      ctx.log('info', `${input.data_dir} already streams from ${f.name}: nothing to do`);
      return output(input, f, { changed: attempt() > 1, simulated: false, stopped: false, rewound: false, streaming_lsn: f.following });
    }
    await checkpoint(input, f.name, ctx);
    if (f.running) await stop(f.cluster, ctx);
    const rewound = await rewind(f, ctx);
    writeStandbyConfig(f.cluster, f.source, input.application_name);
    const log = join(input.data_dir, 'rebound-reprotect.log');
    ctx.heartbeat({ phase: 'start', data_dir: input.data_dir });
    await start(f.cluster, input, log, ctx);
    const lsn = await streaming(input, f, log, ctx);
    ctx.log('info', `${input.data_dir} ${rewound ? 'was rewound and' : 'needed no rewind and'} streams from ${f.name}`);
    return output(input, f, { changed: true, simulated: false, stopped: f.running, rewound, streaming_lsn: lsn });
  },
  async simulate(input, ctx) {
    const f = await inspect(input, ctx);
    const already = f.running && f.following !== undefined && /in archive recovery/.test(f.state);
    const plan = already
      ? `it already streams from ${f.name}: a run would change nothing`
      : `a run would: CHECKPOINT on ${f.name}, ${f.running ? 'stop it (pg_ctl stop -m fast), ' : ''}pg_rewind from ${f.name}, write standby.signal and primary_conninfo, start it and wait until it streams`;
    return output(input, f, {
      changed: !already,
      simulated: true,
      stopped: false,
      rewound: false,
      streaming_lsn: f.following ?? null,
      preflight: [...f.proved, `${input.data_dir} is ${f.running ? 'running' : 'stopped'} (${f.state})`, plan],
    });
  },
});
