// pgbackrest.backup: a backup of a stanza (created and checked when missing) recorded as a restore point kept in the repository; a retry adopts the backup its crashed attempt finished.
import { commitExternal, committedOutput, openStepPoint } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { runAsUser } from '../runtime/run-as.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { describeRepository, pgbackrest, pgbackrestVersion, recordOf, type Stanza } from './command.ts';
import { recoverableWindow, stanzaInfo, type BackupSet } from './info.ts';
import { pgbackrestBackup } from '../../contract/actions/pgbackrest.ts';

/** The annotation that ties a backup set to the point its step writes: how a retry finds the set a crashed attempt took. */
export const POINT_ANNOTATION = 'rebound-point';

/** What a pgbackrest point keeps as `external`: everything a restore, verify or prune needs to find the set again, no credentials. */
export function externalRecord(s: Stanza, set: BackupSet, version: string) {
  return {
    repository: s.repository,
    stanza: s.stanza,
    label: set.label,
    type: set.type,
    prior: set.prior,
    pg_version: version,
    /** The superuser a scratch restore connects as (the cluster's roles come back with it). */
    pg_user: s.cluster?.user ?? 'postgres',
    wal_start: set.archive.start,
    wal_stop: set.archive.stop,
    lsn_start: set.lsn.start,
    lsn_stop: set.lsn.stop,
    backup_started: new Date(set.timestamp.start * 1000).toISOString(),
    backup_stopped: new Date(set.timestamp.stop * 1000).toISOString(),
  };
}

/** A stanza the repository does not have yet: created, then checked (archiving works end to end) before the first backup. */
async function ensureStanza(s: Stanza, ctx: ActionContext) {
  const info = await stanzaInfo(s, ctx);
  if (info) return;
  ctx.log('info', `creating stanza ${s.stanza} in ${describeRepository(s.repository)}`);
  await pgbackrest(s, 'stanza-create', [], ctx);
  await pgbackrest(s, 'check', [], ctx);
}

const annotated = (sets: BackupSet[], id: string) => sets.find((b) => b.annotation?.[POINT_ANNOTATION] === id && !b.error);

export const pgbackrestBackupImpl = defineImpl({
  spec: pgbackrestBackup,
  async run(input, ctx) {
    const { id, points, draft, committed } = await openStepPoint(input.storage, input.service, 'pgbackrest', ctx);
    const s: Stanza = {
      stanza: input.stanza,
      repository: recordOf(input.repository),
      credentials: input.repository,
      cluster: input.cluster,
      user: runAsUser(input.run_as, input.cluster.data_dir),
    };
    if (committed) {
      ctx.log('info', `restore point ${id} was committed by an earlier attempt; reusing it`);
      const [record] = committed.external as Array<{ label: string }>;
      return {
        ...committedOutput(committed, points.keyOf(committed)),
        label: record!.label,
        window: committed.consistency!.window as { from: string; to: string },
      };
    }
    const started = new Date().toISOString();
    await ensureStanza(s, ctx);
    const before = await stanzaInfo(s, ctx);
    let set = annotated(before?.backup ?? [], id);
    if (set) ctx.log('info', `backup ${set.label} was taken for ${id} by an earlier attempt; adopting it`);
    else if (before?.status.lock?.backup?.held)
      // Perhaps this step's own attempt, orphaned by a worker that died: its set appears when it ends, and the retry adopts it.
      throw new ActionError('conflict', `a backup of stanza ${s.stanza} is running (${describeRepository(s.repository)}); retrying once it has finished`, {
        retryable: true,
      });
    else {
      const beat = setInterval(() => ctx.heartbeat({ phase: 'backup', stanza: s.stanza }), 5_000);
      try {
        await pgbackrest(s, 'backup', [`--type=${input.type}`, `--annotation=${POINT_ANNOTATION}=${id}`], ctx);
      } finally {
        clearInterval(beat);
      }
    }
    const info = await stanzaInfo(s, ctx);
    set = annotated(info?.backup ?? [], id);
    if (!info || !set)
      throw new ActionError('backend_error', `pgBackRest reported success but stanza ${s.stanza} lists no backup annotated ${id}`, { retryable: true });
    const window = (await recoverableWindow(s, info, ctx))!;
    const version = info.db.find((d) => d.id === set!.database.id)?.version ?? 'unknown';
    const point = await commitExternal(
      draft,
      { external: [externalRecord(s, set, version)], started_at: started, input, ctx },
      {
        source: { stanza: s.stanza, data_dir: input.cluster.data_dir, port: input.cluster.port, repository: describeRepository(s.repository) },
        tool: { name: 'pgbackrest', version: pgbackrestVersion() },
        server_version: version,
        consistency: { method: 'pitr', window, restorable_from: new Date(set.timestamp.stop * 1000).toISOString() },
      },
    );
    ctx.log('info', `restore point ${id} of ${input.service}: backup ${set.label}; recoverable ${window.from} … ${window.to}`, { restore_point: id });
    return { ...committedOutput(point, points.keyOf(point)), label: set.label, window };
  },
});
