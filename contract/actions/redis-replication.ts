// The Redis replication actions' contracts: read a server's replication state and lag (an RPO figure), promote a replica, and reprotect (the old master follows the new one) as the promotion's revert.
import { z } from 'zod';
import { defineAction, type Revert } from '../action.ts';
import { DURATION_PATTERN } from '../duration.ts';

const Url = (what: string) => z.string().describe(`redis://[user:password@]host:port of ${what}, from a secret`);
const Address = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^\s:[\]]+):\d{1,5}$/, 'host:port');
const Duration = z.string().regex(DURATION_PATTERN, 'a duration such as 30s');

/** How `rpo_seconds` was found; the prose of docs/actions.md explains each. */
export const LAG_METHODS = ['in_sync', 'catch_up', 'catch_up_timeout', 'last_io', 'link_down', 'no_replicas', 'unknown'] as const;

/** The lag figures both actions report, measured the same way. */
const LagFields = {
  master_offset: z.number().nullable().describe("the master's replication offset when read (needs `primary` on a replica); null when not read"),
  replica_offset: z.number().nullable().describe("the replica's processed offset (a master: its slowest replica's acknowledged offset) at the last read"),
  lag_bytes: z.number().nullable().describe('master_offset − replica_offset at the first read; null without the master offset'),
  lag_seconds: z
    .number()
    .nullable()
    .describe('0 in sync; else the seconds the replica took to reach the master offset read (catch-up); null when not measured'),
  rpo_seconds: z.number().nullable().describe('the figure a report uses: the lag in seconds, or the bound lag_method names; null when nothing bounds it'),
  lag_method: z.enum(LAG_METHODS),
  rpo_ms: z.number().nullable().optional().describe('rpo_seconds in milliseconds: what a run report takes as the RPO this step measured (not on a reprotect)'),
  rpo_method: z.enum(['replica lag', 'replica lag at promotion']).optional().describe('how rpo_ms was measured, as reports name it'),
  measured_at: z.string().nullable().describe('when the master offset (or the replica state) was read'),
};

const Limits = {
  max_lag_bytes: z.number().int().min(0).optional().describe('fail past this many bytes of lag (a lag that cannot be measured in bytes fails too)'),
  max_lag: Duration.optional().describe('fail when rpo_seconds is past this; also how long a lagging replica is given to catch up (default 5s)'),
};

const ReplicaSchema = z.object({
  address: z.string(),
  state: z.string().describe('online, wait_bgsave, send_bulk…'),
  offset: z.number().describe('the offset the replica last acknowledged (it acknowledges every second)'),
  lag_bytes: z.number(),
  ack_seconds_ago: z.number().describe("INFO's `lag`: seconds since its last acknowledgement"),
});

const MasterLinkSchema = z.object({
  address: z.string(),
  link_status: z.enum(['up', 'down']),
  last_io_seconds_ago: z.number().nullable().describe('master_last_io_seconds_ago; null while the link is down'),
  link_down_seconds: z.number().nullable().describe('master_link_down_since_seconds; null while the link is up'),
  sync_in_progress: z.boolean(),
});

/** Reads `INFO replication` and reports role, offsets and lag as an RPO figure; fails past `max_lag` / `max_lag_bytes`. */
export const redisReplication = defineAction({
  name: 'redis.replication',
  summary: "A Redis server's replication state (INFO replication): role, replicas or master link, offsets, lag in bytes and seconds as an RPO figure",
  kind: 'activity',
  backend: 'redis',
  impact: 'read',
  secret_inputs: ['server', 'primary'],
  input: z.strictObject({
    server: Url('the server to read'),
    primary: Url('its master, for the offset gap of a replica').optional(),
    service: z.string().min(1).optional().describe('the service the replica belongs to, echoed for reports'),
    ...Limits,
  }),
  output: z.object({
    service: z.string().optional(),
    role: z.enum(['master', 'replica']),
    address: z.string().describe('the server, host:port'),
    offset: z.number().describe('its master_repl_offset (a replica: the offset it has processed)'),
    replicas: z.array(ReplicaSchema).describe('a master: its replicas'),
    master: MasterLinkSchema.nullable().describe('a replica: its link to its master'),
    ...LagFields,
  }),
});

const RoleSchema = z.strictObject({ role: z.enum(['master', 'replica']), master: Address.nullable().optional() });

/** Back to redundancy after a promotion: the old master (`primary`) follows the promoted server, guarded by what the run set. */
const revertPromote: Revert = (input, outputs) => {
  if (input.operation === 'reprotect' || outputs.changed !== true || outputs.simulated === true) return undefined;
  // Without a connection to the old master there is nothing to make follow: a person does it.
  if (input.primary === undefined) return undefined;
  const keep = ['server_address', 'converge_timeout'].filter((k) => input[k] !== undefined);
  return {
    operation: 'reprotect',
    server: input.server,
    primary: input.primary,
    ...Object.fromEntries(keep.map((k) => [k, input[k]])),
    expect_current: { role: 'master' },
  };
};

/**
 * `REPLICAOF NO ONE` on a replica, after measuring its lag; `operation: reprotect` (what
 * failback runs) makes the old master follow it. Production impact: a drill preflights.
 */
export const redisPromote = defineAction({
  name: 'redis.promote',
  summary:
    'Promote a Redis replica (REPLICAOF NO ONE) with its lag measured just before; reprotect: the old master follows it (production: a preflight in drills)',
  kind: 'activity',
  backend: 'redis',
  impact: 'production',
  simulates: true,
  secret_inputs: ['server', 'primary'],
  drill_targets: ['server', 'primary'],
  revert: revertPromote,
  input: z
    .strictObject({
      operation: z.enum(['promote', 'reprotect']).default('promote').describe('reprotect: make `primary` a replica of `server` (the failback of a promotion)'),
      server: Url('the replica to promote (reprotect: the promoted server, now the master)'),
      primary: Url('its master: lag is measured against it, and failback reprotects it (reprotect: the old master)').optional(),
      server_address: Address.optional().describe("reprotect: where the old master reaches `server` (default: server's host:port)"),
      ...Limits,
      expect_current: RoleSchema.optional().describe('refuse unless `server` holds this role (and follows this master host:port)'),
      converge_timeout: Duration.default('10m').describe('reprotect: how long the old master may take to sync and reach the new offset'),
    })
    .superRefine((i, ctx) => {
      const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
      if (i.operation === 'reprotect' && !i.primary) issue('primary', 'reprotect needs the old master as primary');
      if (i.operation === 'reprotect' && (i.max_lag !== undefined || i.max_lag_bytes !== undefined)) issue('max_lag', 'lag limits apply to a promotion');
      if (i.operation === 'promote' && i.server_address) issue('server_address', 'server_address is for reprotect');
    }),
  output: z.object({
    operation: z.enum(['promote', 'reprotect']),
    address: z.string().describe('the server this step changed: the promoted replica, or the old master that now follows'),
    previous: RoleSchema.describe('its role before (a replica: the master it followed)'),
    current: RoleSchema.describe('its role after; simulated: what a run would leave'),
    changed: z.boolean(),
    simulated: z.boolean(),
    preflight: z.array(z.string()).optional().describe('simulated: what was checked, and the change a run would make'),
    previous_master: z.string().nullable().describe('promote: the master it followed, host:port'),
    promoted_at: z.string().nullable().describe('promote: when REPLICAOF NO ONE was answered'),
    ...LagFields,
    converged_offset: z.number().nullable().describe('reprotect: the offset the old master reached on the new master'),
    diverged_bytes: z
      .number()
      .nullable()
      .describe('reprotect: bytes the old master took after the promotion point, discarded by its resync; null when unknown'),
  }),
});
