// PostgreSQL streaming replication's contracts: read a server's replication state and lag (an RPO figure), promote a standby, and reprotect (the old primary rejoins as a standby of the new one) as the promotion's revert.
import { z } from 'zod';
import { defineAction, type Revert } from '../action.ts';
import { DURATION_PATTERN } from '../duration.ts';

const Url = (what: string) => z.string().describe(`connection URL (postgres://user:password@host:port/db) of ${what}, from a secret`);
const Duration = z.string().regex(DURATION_PATTERN, 'a duration such as 30s');
const Lsn = z.string().nullable();

/** How `lag_seconds` (and so `rpo_seconds`) was found; the prose of docs/actions.md explains each. */
export const LAG_METHODS = ['in_sync', 'catch_up', 'last_replay', 'standbys', 'no_standby', 'unknown'] as const;

/** The lag figures the read and the promotion report, measured the same way. */
const LagFields = {
  lag_bytes: z
    .number()
    .nullable()
    .describe(
      "a standby: WAL the primary had (with `primary`; else WAL received) that it had not replayed; a primary: its slowest standby's; null: not measured",
    ),
  lag_seconds: z.number().nullable().describe('0 when nothing is behind; otherwise the seconds `lag_method` names; null: not measured'),
  rpo_seconds: z.number().nullable().describe('the RPO figure: lag_seconds; null: no standby, or not measured'),
  rpo_ms: z.number().nullable().describe('rpo_seconds in milliseconds: what a run report takes as the RPO this step measured'),
  lag_method: z.enum(LAG_METHODS),
  receive_lsn: Lsn.describe('a standby: the last WAL location received and flushed (pg_last_wal_receive_lsn)'),
  replay_lsn: Lsn.describe('a standby: the last WAL location replayed (pg_last_wal_replay_lsn) when the lag was measured'),
  primary_lsn: Lsn.describe("a standby with `primary`: the primary's pg_current_wal_lsn() read just after the standby's; null when not read"),
  last_replay_at: z.string().nullable().describe('a standby: the commit time of the last transaction replayed (pg_last_xact_replay_timestamp)'),
  measured_at: z.string().describe("when the standby's (or primary's) state was read"),
};

const Limits = {
  max_lag: Duration.optional().describe('fail (check_failed, retryable: `retry:` waits for catch-up) when lag_seconds is past this or unknown'),
  max_lag_bytes: z.number().int().min(0).optional().describe('fail (check_failed, retryable) when lag_bytes is past this or unknown'),
};

const StandbySchema = z.object({
  application_name: z.string(),
  client_addr: z.string().nullable(),
  state: z.string().describe('streaming, catchup, startup…'),
  sync_state: z.string(),
  sent_lsn: Lsn,
  write_lsn: Lsn,
  flush_lsn: Lsn,
  replay_lsn: Lsn,
  lag_bytes: z.number().nullable().describe('pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)'),
  lag_seconds: z.number().nullable().describe('0 when lag_bytes is 0; else replay_lag in seconds (null until the standby reports one)'),
});

/** Reads a server's replication state: a primary's standbys, or a standby's receive/replay positions; lag as an RPO figure. */
export const postgresReplication = defineAction({
  name: 'postgres.replication',
  summary: "A PostgreSQL server's streaming replication: role, standbys or receive/replay LSNs, lag in bytes and seconds as an RPO figure",
  kind: 'activity',
  backend: 'postgres',
  impact: 'read',
  secret_inputs: ['server', 'primary'],
  input: z.strictObject({
    server: Url('the server to read'),
    primary: Url('its primary, for a standby: lag against what the primary has written').optional(),
    service: z.string().min(1).optional().describe('the service the server belongs to, echoed for reports'),
    ...Limits,
  }),
  output: z.object({
    service: z.string().optional(),
    server: z.string().describe('host:port'),
    role: z.enum(['primary', 'standby']),
    timeline: z.number().nullable(),
    current_lsn: Lsn.describe('a primary: pg_current_wal_lsn()'),
    standbys: z.array(StandbySchema).describe('a primary: pg_stat_replication'),
    upstream: z.string().nullable().describe("a standby: its WAL receiver's sender host:port and status"),
    ...LagFields,
    rpo_method: z.literal('replica lag').describe('how rpo_ms was measured, as reports name it'),
  }),
});

const RoleSchema = z.object({ role: z.enum(['primary', 'standby']), timeline: z.number().nullable() });

/** Where the old primary lives, for the failback: its host's site and how its server is run there. */
const LocalServer = {
  data_dir: z.string().regex(/^\//, 'an absolute path').describe("the cluster's data directory on the worker's host"),
  port: z.number().int().min(1).max(65535).optional().describe('given to the server as -p when the step starts it (default: its config)'),
  socket_dir: z.string().optional().describe('given as -k (unix_socket_directories) when the step starts it'),
  settings: z
    .record(z.string(), z.string())
    .default({})
    .describe('more -c name=value for the postmaster the step starts (config_file on Debian, listen_addresses…)'),
  run_as: z.string().optional().describe("the OS user pg_ctl and pg_rewind run as on a root worker (default: the data directory's owner)"),
  application_name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default('rebound_reprotect')
    .describe("its primary_conninfo's application_name: how the new primary's pg_stat_replication names it (unique there)"),
  wait_timeout: Duration.default('5m').describe('how long the restarted server may take to stream from the new primary'),
};

const ReprotectSchema = z.strictObject({
  site: z.string().optional().describe("the site whose worker runs on the old primary's host (the failback's reprotect step runs there)"),
  ...LocalServer,
});

/** A promotion is undone by reprotecting the old primary as a standby of the promoted server, guarded by the timeline the promotion created. */
const revertPromote: Revert = (input, outputs) => {
  if (outputs.changed !== true || outputs.simulated === true) return undefined;
  const reprotect = input.reprotect as Record<string, unknown> | undefined;
  if (!reprotect) return undefined;
  const { site: _site, ...local } = reprotect;
  const timeline = (outputs.current as { timeline?: unknown } | undefined)?.timeline;
  return { source: input.server, ...local, ...(typeof timeline === 'number' ? { expect_current: { timeline } } : {}) };
};

/**
 * `pg_promote(wait => true)` on a standby, after measuring its lag; refused unless it is in
 * recovery. Production impact: a drill preflights (reachable, a standby, lag within max_lag).
 */
export const postgresPromote = defineAction({
  name: 'postgres.promote',
  summary: 'Promote a PostgreSQL standby (pg_promote) with its lag measured just before, the failover RPO (production: a preflight in drills)',
  kind: 'activity',
  backend: 'postgres',
  impact: 'production',
  simulates: true,
  secret_inputs: ['server', 'primary'],
  drill_targets: ['server'],
  revert: revertPromote,
  reverted_by: { uses: 'postgres.reprotect', site: (input) => (input.reprotect as { site?: string } | undefined)?.site },
  input: z.strictObject({
    server: Url('the standby to promote'),
    primary: Url('its primary, if reachable: lag against what it has written').optional(),
    service: z.string().min(1).optional().describe('the service, echoed for reports'),
    ...Limits,
    wait_seconds: z.number().int().min(1).max(3600).default(60).describe("pg_promote's wait_seconds"),
    reprotect: ReprotectSchema.optional().describe("the old primary's host, for `rebound failback`: its reprotect step (postgres.reprotect) runs there"),
  }),
  output: z.object({
    service: z.string().optional(),
    server: z.string().describe('host:port of the promoted server'),
    previous: RoleSchema.describe('its role before'),
    current: RoleSchema.describe('its role after (the new timeline); simulated: what a run would leave'),
    changed: z.boolean(),
    simulated: z.boolean(),
    adopted: z.boolean().describe('a retry found the promotion its earlier attempt made, and did not promote again'),
    preflight: z.array(z.string()).optional().describe('simulated: what was checked, and the change a run would make'),
    promoted_at: z.string().nullable().describe('when pg_promote returned (adopted: when the timeline history file was written)'),
    timeline: z.number().nullable().describe('the new timeline'),
    switch_lsn: Lsn.describe('where the new timeline branched off, from its history file'),
    ...LagFields,
    rpo_method: z.literal('replica lag at promotion').describe('how rpo_ms was measured, as reports name it'),
  }),
});

/** The failback of a promotion: the old primary is rewound and rejoins as a standby of the new one, on the worker of its host. */
export const postgresReprotect = defineAction({
  name: 'postgres.reprotect',
  summary: 'Turn an old primary into a standby of the new one: stop it, pg_rewind, standby.signal + primary_conninfo, start, stream (production)',
  kind: 'activity',
  backend: 'postgres',
  impact: 'production',
  simulates: true,
  secret_inputs: ['source'],
  drill_targets: ['data_dir', 'source'],
  input: z.strictObject({
    source: Url('the new primary: pg_rewind reads it, the standby streams from it (needs REPLICATION and pg_rewind rights)'),
    ...LocalServer,
    expect_current: z
      .strictObject({ timeline: z.number().int().min(1) })
      .optional()
      .describe("refuse unless the new primary is still on this timeline (failback sets the promotion's)"),
  }),
  output: z.object({
    data_dir: z.string(),
    source: z.string().describe('host:port of the new primary it follows'),
    previous: z.object({ state: z.string().describe("pg_controldata's cluster state when found"), running: z.boolean() }),
    current: z.object({ role: z.literal('standby'), following: z.string(), timeline: z.number().nullable() }),
    changed: z.boolean(),
    simulated: z.boolean(),
    preflight: z.array(z.string()).optional(),
    stopped: z.boolean().describe('it was running and the step stopped it'),
    rewound: z.boolean().describe('pg_rewind copied changes (false: no rewind was needed, or simulated)'),
    streaming_lsn: Lsn.describe("the new primary's view of its replay position once it streams"),
  }),
});
