// `rebound restore-points windows`: a point-in-time service's points with the window each recorded, and the window its repository holds now.
import type { Command } from 'commander';
import { closeCatalogs, type RestorePoint, type RestorePoints } from '../activities/restore-points/index.ts';
import { restorableFrom } from '../activities/restore-points/resolve.ts';
import { credentialsFromEnv, liveWindow } from '../activities/pgbackrest/window.ts';
import { CommandFailed } from './errors.ts';
import { table } from './table.ts';

type Window = { from: string; to: string };

/** A point whose data stays in a point-in-time repository (pgbackrest): it restores to any time in a window. */
export function isPitr(point: RestorePoint): boolean {
  return point.consistency?.method === 'pitr';
}

/** Where a point's window lives: one stanza in one repository, whatever number of points it holds. */
function repositoryKey(point: RestorePoint): string {
  const record = point.external?.[0] ?? {};
  return JSON.stringify([record.stanza, record.repository]);
}

/**
 * The window each repository holds now, read with pgBackRest on this machine (secrets from
 * pgBackRest's own PGBACKREST_REPO1_* variables); a repository that cannot be read says why.
 */
export async function liveWindows(points: RestorePoint[], runAs?: string): Promise<Map<string, Window | undefined | Error>> {
  const credentials = { ...credentialsFromEnv(), ...(runAs ? { run_as: runAs } : {}) };
  const windows = new Map<string, Window | undefined | Error>();
  for (const p of points) {
    const key = repositoryKey(p);
    if (!windows.has(key)) windows.set(key, await liveWindow(p, credentials).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))));
  }
  return windows;
}

export function liveWindowOf(windows: Map<string, Window | undefined | Error>, point: RestorePoint): Window | undefined | Error {
  return windows.get(repositoryKey(point));
}

function print(points: RestorePoint[], windows: Map<string, Window | undefined | Error>): void {
  const rows = [['ID', 'STATUS', 'BACKUP', 'RESTORABLE FROM', 'RECORDED WINDOW'], ...points.map(pointRow)];
  console.log(table(rows));
  for (const [key, w] of windows) {
    const [stanza] = JSON.parse(key) as [string];
    const now = w instanceof Error ? `cannot read it: ${w.message}` : w ? `${w.from} … ${w.to}` : 'no valid backup';
    console.log(`\nstanza ${stanza} now: ${now}`);
  }
}

function pointRow(p: RestorePoint): string[] {
  const w = p.consistency?.window as Window | undefined;
  return [p.id, p.status, String(p.external?.[0]?.label ?? '-'), restorableFrom(p), w ? `${w.from} … ${w.to}` : '-'];
}

export function restorePointsWindowsCommand(rp: Command, open: (storage?: string) => RestorePoints): void {
  rp.command('windows')
    .requiredOption('--service <s>')
    .option('--recorded', 'only what the points recorded: do not ask the repository (no pgBackRest needed here)')
    .option('--run-as <user>', 'run pgBackRest as this OS user (when rebound runs as root; default postgres)')
    .option('--storage <url>', 'storage URL (default: $REBOUND_STORAGE_URL or the embedded file store)')
    .option('--json')
    .description(
      "a point-in-time service's points, each with the window it recorded, and the window its repository holds now (pgBackRest on this machine; secrets from PGBACKREST_REPO1_CIPHER_PASS, _S3_KEY, _S3_KEY_SECRET)",
    )
    .action(async (o) => {
      try {
        const points = (await open(o.storage).list({ service: o.service, status: ['verified', 'unverified'], limit: 200 })).filter(isPitr);
        if (!points.length) throw new CommandFailed(`no point-in-time restore points of ${o.service}`);
        const windows = o.recorded ? new Map() : await liveWindows(points, o.runAs);
        if (!o.json) return print(points, windows);
        const live = [...windows].map(([key, w]) => {
          const [stanza] = JSON.parse(key) as [string];
          return w instanceof Error ? { stanza, error: w.message } : { stanza, window: w ?? null };
        });
        const rows = points.map((p) => ({
          id: p.id,
          status: p.status,
          label: p.external?.[0]?.label,
          restorable_from: restorableFrom(p),
          recorded: p.consistency?.window,
        }));
        console.log(JSON.stringify({ service: o.service, points: rows, now: live }, null, 2));
      } finally {
        await closeCatalogs();
      }
    });
}
