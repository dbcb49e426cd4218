// postgres.promote: pg_promote(wait => true) on a standby after measuring its lag (the failover's RPO); refused on a primary unless this step's earlier attempt provably promoted it; a drill preflights and changes nothing.
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { z } from 'zod';
import { postgresPromote } from '../../contract/actions/postgres-replication.ts';
import { ActionError, withPartial } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { withClient } from './connection.ts';
import { checkLimits, describeLag, measureStandby, type Lag } from './lag.ts';
import { readHistory, readRole, serverName, type ServerRole } from './server-state.ts';

type Input = z.output<typeof postgresPromote.input>;
type Output = z.input<typeof postgresPromote.output>;

/** What an attempt heartbeats just before pg_promote: a retry after a crash knows the promotion was under way, and its lag. */
interface Promoting {
  system: string | null;
  timeline: number | null;
  lag: Lag;
}

/** pg_stat_file's modification time has whole seconds: a history file's age may read up to one second high. */
const CLOCK_SLACK_S = 2;

function activityInfo(): { attempt: number; promoting?: Promoting; elapsedS?: number } {
  try {
    const info = Context.current().info;
    const promoting = (info.heartbeatDetails as { promoting?: Promoting } | undefined)?.promoting;
    return { attempt: info.attempt, ...(promoting ? { promoting } : {}), elapsedS: (Date.now() - info.scheduledTimestampMs) / 1000 };
  } catch {
    return { attempt: 1 }; // not inside an activity
  }
}

const unknownLag = (at: Date): Lag => ({
  lag_bytes: null,
  lag_seconds: null,
  rpo_seconds: null,
  rpo_ms: null,
  lag_method: 'unknown',
  receive_lsn: null,
  replay_lsn: null,
  primary_lsn: null,
  last_replay_at: null,
  measured_at: at.toISOString(),
});

function base(input: Input, name: string): Pick<Output, 'service' | 'server' | 'rpo_method'> {
  return { ...(input.service ? { service: input.service } : {}), server: name, rpo_method: 'replica lag at promotion' };
}

/**
 * The server is out of recovery. This step promoted it when its earlier attempt heartbeated
 * the promotion (same system, a later timeline now), or when this is a retry and the current
 * timeline's history file was written since the step was first scheduled: a worker that died
 * between pg_promote and completing leaves exactly that. Otherwise it was a primary already.
 */
async function adopt(client: pg.Client, role: ServerRole, input: Input, name: string, ctx: ActionContext): Promise<Output> {
  const { attempt, promoting, elapsedS } = activityInfo();
  const history = role.timeline ? await readHistory(client, role.timeline) : undefined;
  const byHeartbeat =
    !!promoting && promoting.timeline !== null && (role.timeline ?? 0) > promoting.timeline && (!promoting.system || promoting.system === role.system);
  const age = history?.age_seconds;
  const byHistory = attempt > 1 && age !== null && age !== undefined && elapsedS !== undefined && age <= elapsedS + CLOCK_SLACK_S;
  if (!byHeartbeat && !byHistory) {
    const why = attempt > 1 ? '; nothing shows that an earlier attempt of this step promoted it' : '';
    throw new ActionError(
      'conflict',
      `${name} is not a standby (pg_is_in_recovery() is false, timeline ${role.timeline ?? 'unknown'}): refusing to promote it${why}`,
      {
        retryable: false,
      },
    );
  }
  ctx.log('warn', `${name} is already a primary on timeline ${role.timeline}: an earlier attempt of this step promoted it; not promoting again`);
  return {
    ...base(input, name),
    previous: { role: 'standby', timeline: promoting?.timeline ?? history?.parent ?? null },
    current: { role: 'primary', timeline: role.timeline },
    changed: true,
    simulated: false,
    adopted: true,
    promoted_at: history?.modified ?? null,
    timeline: role.timeline,
    switch_lsn: history?.switch_lsn ?? null,
    ...(promoting?.lag ?? unknownLag(role.now)),
  };
}

function promoteFailure(error: { code?: string; message?: string }, name: string, ctx: ActionContext): ActionError {
  const text = ctx.mask(error.message ?? String(error));
  if (error.code === '42501') return new ActionError('auth_failed', `${name}: pg_promote is not allowed for this role: ${text}`, { retryable: false });
  // Promoted by someone else meanwhile: a retry reads the new role.
  if (error.code === '55000') return new ActionError('conflict', `${name}: ${text}`, { retryable: true });
  return new ActionError('backend_error', `${name}: pg_promote failed: ${text}`, { retryable: true });
}

async function promote(client: pg.Client, role: ServerRole, lag: Lag, input: Input, name: string, ctx: ActionContext): Promise<Output> {
  const { rows } = await client
    .query('select pg_promote(true, $1) as done, clock_timestamp() as at', [input.wait_seconds])
    .catch((error: { code?: string; message?: string }) => {
      throw promoteFailure(error, name, ctx);
    });
  if (!rows[0].done) {
    throw new ActionError('timeout', `${name}: pg_promote did not finish within wait_seconds ${input.wait_seconds}; the promotion may still complete`, {
      retryable: true,
    });
  }
  const after = await readRole(client);
  const history = after.timeline ? await readHistory(client, after.timeline) : undefined;
  ctx.log('info', `promoted ${name} to timeline ${after.timeline} (${describeLag(lag)})`);
  return {
    ...base(input, name),
    previous: { role: 'standby', timeline: role.timeline },
    current: { role: 'primary', timeline: after.timeline },
    changed: true,
    simulated: false,
    adopted: false,
    promoted_at: (rows[0].at as Date).toISOString(),
    timeline: after.timeline,
    switch_lsn: history?.switch_lsn ?? null,
    ...lag,
  };
}

/** Reachable, in recovery, within the limits: what both a run and a drill check first. */
async function preflight(client: pg.Client, input: Input, name: string, ctx: ActionContext): Promise<{ role: ServerRole; lag: Lag }> {
  const role = await readRole(client);
  if (!role.standby) return { role, lag: unknownLag(role.now) };
  const lag = await measureStandby(client, input.primary, ctx);
  checkLimits(input, lag, `standby ${name}`);
  return { role, lag };
}

/** What a failure tells a failback: nothing changed (a first attempt before pg_promote), or a promotion was under way. */
function failed(error: unknown, issued: Promoting | undefined): unknown {
  const { attempt, promoting } = activityInfo();
  const under = issued ?? promoting;
  if (under) return withPartial(error, { previous: { role: 'standby', timeline: under.timeline }, target: { role: 'primary', timeline: null } });
  return attempt === 1 ? withPartial(error, { changed: false }) : error;
}

export const postgresPromoteImpl = defineImpl({
  spec: postgresPromote,
  async run(input, ctx) {
    const name = serverName(input.server);
    let issued: Promoting | undefined;
    try {
      return await withClient(
        input.server,
        async (client) => {
          const { role, lag } = await preflight(client, input, name, ctx);
          if (!role.standby) return adopt(client, role, input, name, ctx);
          issued = { system: role.system, timeline: role.timeline, lag };
          ctx.heartbeat({ promoting: issued });
          return promote(client, role, lag, input, name, ctx);
        },
        ctx.mask,
      );
    } catch (error) {
      throw failed(error, issued);
    }
  },
  async simulate(input, ctx) {
    const name = serverName(input.server);
    return withClient(
      input.server,
      async (client): Promise<Output> => {
        const { role, lag } = await preflight(client, input, name, ctx);
        if (!role.standby)
          throw new ActionError('conflict', `${name} is not a standby (pg_is_in_recovery() is false): a run would refuse to promote it`, { retryable: false });
        const limits = [input.max_lag && `max_lag ${input.max_lag}`, input.max_lag_bytes !== undefined && `max_lag_bytes ${input.max_lag_bytes}`].filter(
          Boolean,
        );
        return {
          ...base(input, name),
          previous: { role: 'standby', timeline: role.timeline },
          current: { role: 'primary', timeline: null },
          changed: true,
          simulated: true,
          adopted: false,
          preflight: [
            `reachable: ${name} answers`,
            `a standby: pg_is_in_recovery() is true (timeline ${role.timeline ?? 'unknown'}, receiving from ${role.upstream ?? 'no WAL receiver'})`,
            `${describeLag(lag)}${limits.length ? `, within ${limits.join(' and ')}` : ''}`,
            `a run would: select pg_promote(wait => true, wait_seconds => ${input.wait_seconds})`,
          ],
          promoted_at: null,
          timeline: null,
          switch_lsn: null,
          ...lag,
        };
      },
      ctx.mask,
    );
  },
});
