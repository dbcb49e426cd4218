// search.restore: a point's snapshot restored (a subset, renamed), waited for until healthy, its document counts checked against the point.
import { searchRestore } from '../../contract/actions/search.ts';
import { parseDuration } from '../../contract/duration.ts';
import { openRestorePoints, restoredOutput } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { call, connect, countDocuments, get, indexPath, type Cluster } from './client.ts';
import { pause } from '../runtime/pause.ts';
import { recordOf, type IndexRecord, type SnapshotRecord } from './snapshot.ts';

export interface RestoreOptions {
  indices?: string[] | undefined;
  rename_pattern?: string | undefined;
  rename_replacement?: string | undefined;
  wait_for: 'green' | 'yellow';
  deadline: number;
}

export interface Restored {
  index: string;
  from: string;
  documents: number;
  health: string;
}

const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** The point's indices a restore takes: all, or those matching `wanted` (names or * patterns). */
function chosen(record: SnapshotRecord, wanted: string[] | undefined): IndexRecord[] {
  if (!wanted) return record.indices;
  const patterns = wanted.map(glob);
  const picked = record.indices.filter((i) => patterns.some((p) => p.test(i.index)));
  if (!picked.length)
    throw new ActionError(
      'not_found',
      `none of ${wanted.join(', ')} is in snapshot ${record.snapshot} (it holds ${record.indices.map((i) => i.index).join(', ')})`,
      {
        retryable: false,
      },
    );
  return picked;
}

function renamer(pattern: string): RegExp {
  try {
    return new RegExp(pattern, 'g');
  } catch (error) {
    throw new ActionError('invalid_input', `rename_pattern is not a regular expression: ${(error as Error).message}`, { retryable: false });
  }
}

/** Whether `index` exists because an earlier attempt restored it from this very snapshot (then it is adopted, not refused). */
async function restoredFrom(cluster: Cluster, index: string, record: SnapshotRecord): Promise<boolean> {
  type Recovery = Record<string, { shards?: { type: string; source?: { snapshot?: string; repository?: string } }[] }>;
  const recovery = await get<Recovery>(cluster, `/${encodeURIComponent(index)}/_recovery`, `reading the recovery of ${index}`);
  const shards = recovery[index]?.shards ?? [];
  return (
    shards.length > 0 && shards.every((s) => s.type === 'SNAPSHOT' && s.source?.snapshot === record.snapshot && s.source?.repository === record.repository)
  );
}

interface HealthReply {
  status: string;
  timed_out: boolean;
  active_shards: number;
  initializing_shards: number;
  unassigned_shards: number;
}

async function waitHealthy(cluster: Cluster, targets: string[], options: RestoreOptions): Promise<string> {
  for (;;) {
    const health = await get<HealthReply>(
      cluster,
      `/_cluster/health/${indexPath(targets)}?wait_for_status=${options.wait_for}&timeout=5s`,
      'waiting for the restored indices',
    );
    cluster.ctx.heartbeat({ phase: 'restore', status: health.status, active_shards: health.active_shards, initializing_shards: health.initializing_shards });
    if (!health.timed_out) return String(health.status);
    if (Date.now() > options.deadline)
      throw new ActionError(
        'timeout',
        `the restored indices are ${health.status} (${health.initializing_shards} shards initializing, ${health.unassigned_shards} unassigned), not ${options.wait_for}, at the timeout`,
        { retryable: true },
      );
    await pause(500, cluster.ctx.signal);
  }
}

/** Restores the snapshot a point names, waits for health and compares document counts with the point's; what restore and backup.verify share. */
export async function restoreSnapshot(cluster: Cluster, record: SnapshotRecord, options: RestoreOptions): Promise<Restored[]> {
  const sources = chosen(record, options.indices);
  const pattern = options.rename_replacement ? renamer(options.rename_pattern ?? '(.+)') : undefined;
  const targetOf = (name: string) => (pattern ? name.replace(pattern, options.rename_replacement!) : name);
  const snapshotPath = `/_snapshot/${encodeURIComponent(record.repository)}/${encodeURIComponent(record.snapshot)}`;
  const found = await call(cluster, 'GET', snapshotPath, `reading snapshot ${record.snapshot}`, { accept: [404] });
  if (found.status === 404)
    throw new ActionError(
      'not_found',
      `snapshot ${record.snapshot} is not in repository ${record.repository} on ${cluster.url} (deleted, or another repository)`,
      {
        retryable: false,
      },
    );
  const pending: IndexRecord[] = [];
  for (const source of sources) {
    const target = targetOf(source.index);
    const exists = (await call(cluster, 'HEAD', `/${encodeURIComponent(target)}`, `looking for index ${target}`, { accept: [404] })).status !== 404;
    if (!exists) pending.push(source);
    else if (!(await restoredFrom(cluster, target, record)))
      throw new ActionError(
        'conflict',
        `index ${target} already exists on ${cluster.url}: restore under other names (rename_replacement), or delete or close it first`,
        { retryable: false },
      );
  }
  if (pending.length) {
    const body = {
      indices: pending.map((i) => i.index).join(','),
      include_global_state: false,
      // Aliases of the originals would also point at renamed copies: production reads would reach them.
      include_aliases: !pattern,
      ...(pattern ? { rename_pattern: options.rename_pattern ?? '(.+)', rename_replacement: options.rename_replacement } : {}),
    };
    await call(cluster, 'POST', `${snapshotPath}/_restore?wait_for_completion=false`, `restoring snapshot ${record.snapshot}`, { body });
  }
  const targets = sources.map((s) => targetOf(s.index));
  const health = await waitHealthy(cluster, targets, options);
  const counts = await countDocuments(cluster, targets);
  const restored = sources.map((s) => ({ index: targetOf(s.index), from: s.index, documents: counts[targetOf(s.index)]!, health }));
  const wrong = sources.filter((s, n) => {
    const got = restored[n]!.documents;
    return got < Math.min(s.documents, s.documents_after ?? s.documents) || got > Math.max(s.documents, s.documents_after ?? s.documents);
  });
  if (wrong.length)
    throw new ActionError(
      'verification_failed',
      wrong
        .map((s) => {
          const expected = s.documents_after === undefined ? `${s.documents}` : `${s.documents}–${s.documents_after}`;
          return `${targetOf(s.index)} holds ${counts[targetOf(s.index)]} documents; the point recorded ${expected} in ${s.index}`;
        })
        .join('; '),
      { retryable: false },
    );
  return restored;
}

export const searchRestoreImpl = defineImpl({
  spec: searchRestore,
  async run(input, ctx) {
    const points = openRestorePoints(input.storage);
    const point = await points.find(input.restore_point);
    const record = recordOf(point);
    const cluster = connect(input, ctx);
    const deadline = Date.now() + parseDuration(input.timeout)!;
    const indices = await restoreSnapshot(cluster, record, { ...input, deadline });
    ctx.log('info', `restored ${indices.length} indices of ${point.id} from ${record.snapshot}: ${indices.map((i) => i.index).join(', ')}`);
    return {
      ...restoredOutput(point),
      repository: record.repository,
      snapshot: record.snapshot,
      indices,
    };
  },
});
