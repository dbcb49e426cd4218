// pgbackrest.restore: a point's stanza restored to a time, its latest WAL or its own backup: into a scratch cluster that is checked and removed, or into a stopped cluster's data directory.
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openRestorePoints, restoredOutput, type RestorePoint } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { runAsUser } from '../runtime/run-as.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { runChecks } from '../postgres/check.ts';
import { pgbackrest, privateConfig, secretEnv, type Credentials, type RepositoryRecord, type Stanza } from './command.ts';
import { outsideWindow, recoverableWindow, stanzaInfo } from './info.ts';
import { reapOrphans } from './orphans.ts';
import { startScratch } from './scratch.ts';
import type { externalRecord } from './backup.ts';
import type { Checks, CheckResult } from '../../contract/actions/checks.ts';
import { pgbackrestRestore } from '../../contract/actions/pgbackrest.ts';

type Record = ReturnType<typeof externalRecord> & { repository: RepositoryRecord };
export type Target = 'latest' | 'backup' | { time: string };

/** A pgbackrest point's record, or a clear refusal for a point of another kind. */
export function recordOfPoint(point: RestorePoint): Record {
  const record = point.kind === 'pgbackrest' ? (point.external?.[0] as Record | undefined) : undefined;
  if (!record) throw new ActionError('invalid_input', `restore point ${point.id} is a ${point.kind} backup, not pgbackrest`, { retryable: false });
  return record;
}

export function stanzaOf(record: Record, credentials: (Credentials & { run_as?: string }) | undefined): Stanza {
  return {
    stanza: record.stanza,
    repository: record.repository,
    credentials: credentials ?? {},
    user: runAsUser(credentials?.run_as),
    // Only the superuser matters here: a scratch server on a restored copy is reached as it.
    cluster: { data_dir: '', port: 5432, socket_dir: '', user: record.pg_user ?? 'postgres' },
  };
}

/** pgBackRest's restore options for a target; every restore promotes at its end. */
function targetArgs(target: Target, record: Record): string[] {
  if (target === 'latest') return [];
  if (target === 'backup') return ['--type=immediate', `--set=${record.label}`, '--target-action=promote'];
  return ['--type=time', `--target=${new Date(target.time).toISOString().replace('T', ' ').replace('Z', '+00')}`, '--target-action=promote'];
}

/** A time target inside the stanza's recoverable window, or a refusal naming the window (not retried). */
async function checkTarget(s: Stanza, target: Target, ctx: ActionContext): Promise<void> {
  if (typeof target !== 'object') return;
  const at = Date.parse(target.time);
  if (Number.isNaN(at)) throw new ActionError('invalid_input', `target time ${JSON.stringify(target.time)} is not an ISO time`, { retryable: false });
  const info = await stanzaInfo(s, ctx);
  const window = info && (await recoverableWindow(s, info, ctx));
  if (!window || at < Date.parse(window.from) || at > Date.parse(window.to)) throw outsideWindow(s, target.time, window);
}

export interface ScratchResult {
  reached: string | null;
  checks: CheckResult[];
}

/** Restores into a private folder, starts a throwaway server on it, runs the checks, stops it and removes everything. */
export async function restoreScratch(
  s: Stanza,
  record: Record,
  target: Target,
  checks: Checks | undefined,
  database: string,
  ctx: ActionContext,
): Promise<ScratchResult> {
  // A worker killed mid-restore leaves its scratch server running: the next restore on the host stops it.
  await reapOrphans((message) => ctx.log('warn', message));
  const config = privateConfig(s);
  try {
    const dataDir = join(config.dir, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    if (s.user) chownSync(dataDir, s.user.uid, s.user.gid);
    const beat = setInterval(() => ctx.heartbeat({ phase: 'restore', stanza: s.stanza }), 5_000);
    try {
      await pgbackrest(s, 'restore', [`--pg1-path=${dataDir}`, ...targetArgs(target, record)], ctx, { config });
    } finally {
      clearInterval(beat);
    }
    const server = await startScratch(s, config.dir, dataDir, record.pg_version, secretEnv(s.credentials), ctx);
    try {
      const c = await server.client(database);
      try {
        const reached = (await c.query('select pg_last_xact_replay_timestamp() as t')).rows[0].t as Date | null;
        const results = checks ? await runChecks(c, checks, ctx.mask) : [];
        return { reached: reached ? reached.toISOString() : null, checks: results };
      } finally {
        await c.end().catch(() => undefined);
      }
    } finally {
      await server.stop();
    }
  } finally {
    config.remove();
  }
}

/** A data directory whose server runs: pgBackRest would refuse too, but later and less plainly. */
function refuseRunning(dataDir: string): void {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  try {
    process.kill(pid, 0);
  } catch {
    return;
  }
  throw new ActionError('conflict', `data directory ${dataDir} belongs to a running server (pid ${pid}): stop it before restoring into it`, {
    retryable: false,
  });
}

export const pgbackrestRestoreImpl = defineImpl({
  spec: pgbackrestRestore,
  async run(input, ctx) {
    const points = openRestorePoints(input.storage);
    const point = await points.find(input.restore_point);
    const record = recordOfPoint(point);
    const s = stanzaOf(record, input.pgbackrest);
    const startedAt = Date.now();
    await checkTarget(s, input.target, ctx);
    const base = { ...restoredOutput(point), mode: input.mode, label: input.target === 'backup' ? record.label : null, rpo_method: 'PITR gap' as const };
    if (input.mode === 'place') {
      const dataDir = input.data_dir!;
      refuseRunning(dataDir);
      const delta = existsSync(dataDir) && readdirSync(dataDir).length > 0 ? ['--delta'] : [];
      await pgbackrest(s, 'restore', [`--pg1-path=${dataDir}`, ...delta, ...targetArgs(input.target, record)], ctx);
      return { ...base, reached: null, rpo_ms: null, checks: [] };
    }
    const result = await restoreScratch(s, record, input.target, input.checks, input.database, ctx);
    const failed = result.checks.filter((c) => !c.ok);
    if (failed.length)
      throw new ActionError('check_failed', `scratch restore of stanza ${s.stanza}: ${failed.map((c) => `${c.check}: ${c.detail}`).join('; ')}`, {
        retryable: false,
      });
    const wanted = typeof input.target === 'object' ? Date.parse(input.target.time) : input.target === 'latest' ? startedAt : undefined;
    const rpo = wanted !== undefined && result.reached ? Math.max(0, wanted - Date.parse(result.reached)) : null;
    return { ...base, reached: result.reached, rpo_ms: rpo, checks: result.checks };
  },
});
