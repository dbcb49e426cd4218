// search.snapshot: a snapshot into the cluster's repository, followed to the end with heartbeats, recorded as a point whose data stays there.
import type { z } from 'zod';
import { searchSnapshot } from '../../contract/actions/search.ts';
import { parseDuration } from '../../contract/duration.ts';
import { commitExternal, committedOutput, openStepPoint, type RestorePoint } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { call, connect, countDocuments, get, resolveIndices, SearchError, type Cluster } from './client.ts';
import { pause } from '../runtime/pause.ts';

export const SEARCH_KIND = 'search';
type Input = z.output<typeof searchSnapshot.input>;

/** An index in a point: documents counted just before the snapshot and, when writes went on meanwhile, the count after it. */
export interface IndexRecord {
  index: string;
  documents: number;
  documents_after?: number;
}

/** What a point records in `external`: the snapshot in the cluster's repository, and what it holds. */
export interface SnapshotRecord {
  cluster: string;
  repository: string;
  snapshot: string;
  uuid: string;
  version: string;
  indices: IndexRecord[];
  [key: string]: unknown;
}

/** The parts of GET _snapshot/<repository>/<snapshot> the actions read. */
export interface SnapshotInfo {
  snapshot: string;
  uuid: string;
  state: string;
  version?: string;
  indices: string[];
  failures?: { index: string; shard_id: number; reason: string }[];
  metadata?: { rebound?: { documents?: Record<string, number> } };
}
export type SnapshotList = { snapshots?: SnapshotInfo[] };
interface SnapshotStatus {
  snapshots?: { state: string; shards_stats?: { done: number; total: number } }[];
}
interface RepositoryInfo {
  type?: string;
  settings?: Record<string, unknown>;
}

/** Same name on every attempt of a step: a retry adopts or follows the snapshot a crashed attempt started. */
export const snapshotName = (pointId: string) => `rebound-${pointId.toLowerCase()}`;

/** Same type and settings (the cluster returns settings as strings): registering again would fail while a snapshot runs in it. */
function sameRepository(current: RepositoryInfo | undefined, wanted: NonNullable<Input['register']>): boolean {
  if (current?.type !== wanted.type) return false;
  const settings = current.settings ?? {};
  const keys = new Set([...Object.keys(settings), ...Object.keys(wanted.settings)]);
  return [...keys].every((k) => String(settings[k]) === String(wanted.settings[k]));
}

async function ensureRepository(cluster: Cluster, input: Input): Promise<void> {
  const repo = encodeURIComponent(input.repository);
  const { status, body } = await call<Record<string, RepositoryInfo>>(cluster, 'GET', `/_snapshot/${repo}`, `reading repository ${input.repository}`, {
    accept: [404],
  });
  if (input.register && !(status !== 404 && sameRepository(body[input.repository], input.register))) {
    await call(cluster, 'PUT', `/_snapshot/${repo}`, `registering repository ${input.repository}`, { body: input.register }).catch((error: unknown) => {
      if (error instanceof SearchError && error.type === 'repository_exception')
        throw new ActionError('rejected', `${error.message}; for fs, the location must be under the path.repo of every node`, { retryable: false });
      throw error;
    });
  } else if (status === 404)
    throw new ActionError('not_found', `repository ${input.repository} does not exist on ${cluster.url}: register it, or give register: {type, settings}`, {
      retryable: false,
    });
}

/** Starts the snapshot unless an earlier attempt did; the document counts ride in its metadata, so an adopting retry has them too. */
async function start(cluster: Cluster, input: Input, pointId: string, name: string): Promise<void> {
  const path = `/_snapshot/${encodeURIComponent(input.repository)}/${name}`;
  const existing = await call(cluster, 'GET', path, `reading snapshot ${name}`, { accept: [404] });
  if (existing.status !== 404) return;
  const indices = await resolveIndices(cluster, input.indices);
  if (!indices.length)
    throw new ActionError('not_found', `no open index on ${cluster.url} matches ${input.indices.join(', ')}: nothing to snapshot`, { retryable: false });
  const documents = await countDocuments(cluster, indices);
  const body = {
    indices: indices.join(','),
    include_global_state: input.include_global_state,
    metadata: { rebound: { point: pointId, service: input.service, documents } },
  };
  await call(cluster, 'PUT', `${path}?wait_for_completion=false`, `starting snapshot ${name}`, { body }).catch((error: unknown) => {
    // Another attempt started it between our look and our start: follow that one.
    if (!(error instanceof SearchError && error.type === 'invalid_snapshot_name_exception' && /already exists/.test(error.message))) throw error;
  });
}

/** Elasticsearch SLM: executes the policy and returns the repository and snapshot it started. */
async function executePolicy(cluster: Cluster, policy: string): Promise<{ repository: string; snapshot: string }> {
  const id = encodeURIComponent(policy);
  const defined = await get<Record<string, { policy?: { repository?: string } }>>(cluster, `/_slm/policy/${id}`, `reading SLM policy ${policy}`);
  const repository = defined?.[policy]?.policy?.repository;
  if (typeof repository !== 'string') throw new ActionError('invalid_input', `SLM policy ${policy} names no repository`, { retryable: false });
  const started = await call<{ snapshot_name: string }>(cluster, 'POST', `/_slm/policy/${id}/_execute`, `executing SLM policy ${policy}`);
  return { repository, snapshot: String(started.body.snapshot_name) };
}

/** Polls the snapshot with heartbeats (shards done of total) until the cluster has finalized it, and returns its description. */
async function follow(cluster: Cluster, repository: string, snapshot: string, deadline: number): Promise<SnapshotInfo> {
  const path = `/_snapshot/${encodeURIComponent(repository)}/${encodeURIComponent(snapshot)}`;
  for (;;) {
    // _status gives shard progress but may say SUCCESS before the snapshot is finalized; its own state decides.
    const info = (await get<SnapshotList>(cluster, path, `reading snapshot ${snapshot}`)).snapshots?.[0];
    if (info && info.state !== 'IN_PROGRESS') return finished(info, repository, snapshot);
    const status = (await get<SnapshotStatus>(cluster, `${path}/_status`, `reading the status of snapshot ${snapshot}`)).snapshots?.[0];
    const shards = status?.shards_stats;
    cluster.ctx.heartbeat({ phase: 'snapshot', snapshot, state: status?.state, shards_done: shards?.done, shards_total: shards?.total });
    if (Date.now() > deadline)
      throw new ActionError('timeout', `snapshot ${snapshot} is still running: ${shards?.done}/${shards?.total} shards done at the timeout`, {
        retryable: true,
      });
    await pause(1000, cluster.ctx.signal);
  }
}

function finished(info: SnapshotInfo, repository: string, snapshot: string): SnapshotInfo {
  if (info.state === 'SUCCESS') return info;
  const failures = (info.failures ?? []).map((f) => `${f.index}[${f.shard_id}]: ${f.reason}`).join('; ');
  throw new ActionError('backend_error', `snapshot ${snapshot} in ${repository} ended ${info.state}${failures ? `: ${failures}` : ''}`, { retryable: false });
}

/** The point's indices: counts from the snapshot's metadata (taken before it started), and a second count when they moved meanwhile. */
async function indexRecords(cluster: Cluster, info: SnapshotInfo): Promise<IndexRecord[]> {
  const before: Record<string, number> = info.metadata?.rebound?.documents ?? {};
  const indices = [...(info.indices as string[])].sort();
  const present = new Set(await resolveIndices(cluster, indices));
  const after = await countDocuments(
    cluster,
    indices.filter((i) => present.has(i)),
  );
  return indices.map((index) => {
    const documents = before[index] ?? after[index] ?? 0;
    return after[index] === undefined || after[index] === documents ? { index, documents } : { index, documents, documents_after: after[index] };
  });
}

export const searchSnapshotImpl = defineImpl({
  spec: searchSnapshot,
  async run(input, ctx) {
    const { id, points, draft, committed } = await openStepPoint(input.storage, input.service, SEARCH_KIND, ctx);
    if (committed) return outputOf(committed, points.keyOf(committed));
    const cluster = connect(input, ctx);
    const started = new Date().toISOString();
    const deadline = Date.now() + parseDuration(input.timeout)!;
    let repository = input.repository;
    let snapshot = snapshotName(id);
    if (input.slm_policy) ({ repository, snapshot } = await executePolicy(cluster, input.slm_policy));
    else {
      await ensureRepository(cluster, input);
      await start(cluster, input, id, snapshot);
    }
    const info = await follow(cluster, repository, snapshot, deadline);
    const version = (await get<{ version?: { number?: string } }>(cluster, '/', 'reading the cluster version')).version?.number ?? 'unknown';
    const record: SnapshotRecord = {
      cluster: cluster.url,
      repository,
      snapshot,
      uuid: String(info.uuid),
      version: String(info.version ?? version),
      indices: await indexRecords(cluster, info),
    };
    const point = await commitExternal(
      draft,
      { external: [record], started_at: started, input, ctx },
      {
        source: { cluster: cluster.url, indices: input.slm_policy ? [] : input.indices, ...(input.slm_policy ? { slm_policy: input.slm_policy } : {}) },
        tool: { name: 'rebound (_snapshot API)', version },
        server_version: version,
        consistency: { documents: 'counted after a refresh just before the snapshot started; documents_after when writes went on while it ran' },
      },
    );
    ctx.log('info', `restore point ${id} of ${input.service}: snapshot ${snapshot} in ${repository}, ${record.indices.length} indices`);
    return outputOf(point, points.keyOf(point));
  },
});

/** The snapshot a search point names; a point of another kind is refused. */
export function recordOf(point: RestorePoint): SnapshotRecord {
  const record = point.external?.[0] as SnapshotRecord | undefined;
  if (point.kind !== SEARCH_KIND || !record?.snapshot)
    throw new ActionError('invalid_input', `restore point ${point.id} is a ${point.kind} backup, not a search snapshot`, { retryable: false });
  return record;
}

function outputOf(point: RestorePoint, object: string) {
  const record = recordOf(point);
  return {
    ...committedOutput(point, object),
    repository: record.repository,
    snapshot: record.snapshot,
    indices: record.indices.map((i) => ({ index: i.index, documents: i.documents })),
  };
}
