// `INFO replication` as data: a server's role, offsets and replication IDs, its master link (a replica) or its replicas (a master).
import { Context } from '@temporalio/activity';
import { ActionError } from '../runtime/errors.ts';
import { redisCommand, type RedisTarget } from './cli.ts';

export interface MasterLink {
  host: string;
  port: number;
  up: boolean;
  /** master_last_io_seconds_ago; null while the link is down (Redis says -1). */
  lastIo: number | null;
  /** master_link_down_since_seconds; null while the link is up. */
  downSince: number | null;
  syncing: boolean;
}

export interface ReplicaEntry {
  address: string;
  state: string;
  /** The offset it last acknowledged (REPLCONF ACK, once a second). */
  offset: number;
  ackLag: number;
}

export interface ReplicationInfo {
  role: 'master' | 'replica';
  /** master_repl_offset; on a replica, slave_repl_offset (what it has processed) when shown. */
  offset: number;
  replid: string;
  /** The replication ID it had before it was promoted (all zeros: never promoted). */
  replid2: string;
  /** second_repl_offset: on a promoted replica, its offset at promotion + 1; -1 otherwise. */
  secondOffset: number;
  master?: MasterLink;
  replicas: ReplicaEntry[];
}

export type CliOptions = { signal: AbortSignal; mask: (t: string) => string };

const NO_ID = /^0+$/;

export const addressOf = (t: { host: string; port: number }): string => (t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`);

/** Whether a server was ever promoted from a replica (it keeps its old replication ID as replid2). */
export const wasPromoted = (info: ReplicationInfo): boolean => info.secondOffset >= 0 && !NO_ID.test(info.replid2);

function fields(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) map.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return map;
}

/** "ip=127.0.0.1,port=6380,state=online,offset=123,lag=0" */
function replicaEntry(value: string): ReplicaEntry {
  const kv = new Map(value.split(',').map((part) => part.split('=', 2) as [string, string]));
  const host = kv.get('ip') ?? '?';
  return {
    address: addressOf({ host, port: Number(kv.get('port')) }),
    state: kv.get('state') ?? 'unknown',
    offset: Number(kv.get('offset') ?? 0),
    ackLag: Number(kv.get('lag') ?? 0),
  };
}

function masterLink(f: Map<string, string>): MasterLink {
  const num = (key: string) => (f.has(key) && Number(f.get(key)) >= 0 ? Number(f.get(key)) : null);
  const up = f.get('master_link_status') === 'up';
  return {
    host: f.get('master_host') ?? '?',
    port: Number(f.get('master_port') ?? 0),
    up,
    lastIo: up ? num('master_last_io_seconds_ago') : null,
    downSince: up ? null : num('master_link_down_since_seconds'),
    syncing: f.get('master_sync_in_progress') === '1',
  };
}

export function parseReplication(text: string): ReplicationInfo {
  const f = fields(text);
  const role = f.get('role');
  if (role !== 'master' && role !== 'slave')
    throw new ActionError('backend_error', `INFO replication gave no role (${role ?? 'nothing'})`, { retryable: true });
  const replicas = [...f.entries()].filter(([k]) => /^slave\d+$/.test(k)).map(([, v]) => replicaEntry(v));
  return {
    role: role === 'master' ? 'master' : 'replica',
    offset: Number(f.get(role === 'slave' && f.has('slave_repl_offset') ? 'slave_repl_offset' : 'master_repl_offset') ?? 0),
    replid: f.get('master_replid') ?? '',
    replid2: f.get('master_replid2') ?? '',
    secondOffset: Number(f.get('second_repl_offset') ?? -1),
    ...(role === 'slave' ? { master: masterLink(f) } : {}),
    replicas,
  };
}

export async function readReplication(target: RedisTarget, options: CliOptions): Promise<ReplicationInfo> {
  return parseReplication(await redisCommand(target, ['INFO', 'replication'], options));
}

/** The master a replica follows, host:port. */
export const masterAddress = (info: ReplicationInfo): string | null => (info.master ? addressOf(info.master) : null);

const describeRole = (r: { role: string; master?: string | null }): string =>
  r.role === 'master' ? 'a master' : `a replica${r.master ? ` of ${r.master}` : ''}`;

/** Refuses a server that is not in the role `expect_current` names (a change made since the plan); returns what it proved. */
export function checkExpected(expect: { role: string; master?: string | null } | undefined, info: ReplicationInfo, address: string): string[] {
  if (!expect) return [];
  const holds = describeRole({ role: info.role, master: masterAddress(info) });
  const master = expect.master === undefined || expect.master === masterAddress(info);
  if (expect.role !== info.role || !master) {
    throw new ActionError(
      'conflict',
      `${address} is ${holds}, but expect_current is ${describeRole(expect)}; it changed since the plan was made, so it is left alone`,
      {
        retryable: false,
      },
    );
  }
  return [`expect_current matches: ${address} is ${holds}`];
}

/** The attempt and the last heartbeat's details of the running activity (attempt 1, none, outside one). */
export function activityInfo(): { attempt: number; details: unknown } {
  try {
    const info = Context.current().info;
    return { attempt: info.attempt, details: info.heartbeatDetails };
  } catch {
    return { attempt: 1, details: undefined }; // not inside an activity
  }
}
