// `rebound restore-points check`: exit 0 when every service has a recent enough (verified) restore point, 1 naming those that do not.
import type { Command } from 'commander';
import { closeCatalogs, type RestorePoint, type RestorePoints } from '../activities/restore-points/index.ts';
import { parseDuration } from '../contract/duration.ts';
import { CommandFailed, UsageError } from './errors.ts';
import { table } from './table.ts';
import { isPitr, liveWindowOf, liveWindows } from './restore-points-windows.ts';

export interface Freshness {
  service: string;
  ok: boolean;
  /** Why not: no point, failed verification, too old. */
  problem?: string;
  point?: string;
  status?: string;
  completed_at?: string;
  age_ms?: number;
  /** What the age is of: the point, or (point-in-time services) the newest WAL its repository archived — the RPO a failure now would cost. */
  measured?: 'point' | 'archived_wal';
}

/** `2h30m`, `45m`: exact to the minute, where `ms` would round 2h30m up to 3h; under a minute (archived WAL), seconds. */
export function ageText(millis: number): string {
  if (millis < 59_500) return `${Math.max(0, Math.round(millis / 1000))}s`;
  const minutes = Math.round(millis / 60_000);
  const [h, m] = [Math.floor(minutes / 60), minutes % 60];
  return h === 0 ? `${m}m` : m === 0 ? `${h}h` : `${h}h${m}m`;
}

/**
 * One service's verdict. The newest point counts: a newer failed point is a problem even
 * when an older one verified, because backups have started to break.
 */
export function assess(
  service: string,
  newest: RestorePoint | undefined,
  verified: RestorePoint | undefined,
  maxAgeMs: number,
  requireVerified: boolean,
  now: number,
): Freshness {
  if (!newest) return { service, ok: false, problem: 'no restore point' };
  if (newest.status === 'failed')
    return { service, ok: false, problem: `newest point ${newest.id} failed verification`, point: newest.id, status: newest.status };
  const point = requireVerified ? verified : newest;
  if (!point) return { service, ok: false, problem: 'no verified restore point' };
  const age = now - Date.parse(point.completed_at);
  const facts = { point: point.id, status: point.status, completed_at: point.completed_at, age_ms: age };
  if (age > maxAgeMs) {
    return { service, ok: false, problem: `newest ${requireVerified ? 'verified ' : ''}point is ${ageText(age)} old (max ${ageText(maxAgeMs)})`, ...facts };
  }
  return { service, ok: true, ...facts };
}

/**
 * A point-in-time service restores up to its newest archived WAL, whatever its base backup's
 * age: that WAL's age is its freshness. A repository that cannot be read fails the check.
 */
export function assessArchive(base: Freshness, window: { from: string; to: string } | undefined | Error, maxAgeMs: number, now: number): Freshness {
  const { service, point, status } = base;
  if (window instanceof Error) return { service, ok: false, point, status, measured: 'archived_wal', problem: `cannot read its repository: ${window.message}` };
  if (!window) return { service, ok: false, point, status, measured: 'archived_wal', problem: 'its repository holds no valid backup' };
  const age = now - Date.parse(window.to);
  const facts = { service, point, status, completed_at: base.completed_at, age_ms: age, measured: 'archived_wal' as const };
  if (age > maxAgeMs) return { ...facts, ok: false, problem: `newest archived WAL is ${ageText(age)} old (max ${ageText(maxAgeMs)})` };
  return { ...facts, ok: true };
}

async function services(points: RestorePoints, named: string[]): Promise<string[]> {
  if (named.length) return named;
  return [...new Set((await points.scan()).map((p) => p.service))].sort();
}

function print(results: Freshness[]): void {
  const rows = [
    ['SERVICE', 'STATE', 'AGE', 'OF', 'POINT', 'PROBLEM'],
    ...results.map((r) => [
      r.service,
      r.ok ? 'ok' : 'FAIL',
      r.age_ms === undefined ? '-' : ageText(r.age_ms),
      r.measured === 'archived_wal' ? 'wal' : 'point',
      r.point ?? '-',
      r.problem ?? '',
    ]),
  ];
  console.log(table(rows));
}

export function restorePointsCheckCommand(rp: Command, open: (storage?: string) => RestorePoints): void {
  rp.command('check')
    .requiredOption('--max-age <duration>', 'how old the newest point may be, e.g. 26h')
    .option('--service <s...>', 'services to check (default: every service in storage)')
    .option('--verified', 'only verified points count')
    .option('--run-as <user>', 'point-in-time services: run pgBackRest as this OS user (when rebound runs as root; default postgres)')
    .option('--storage <url>', 'storage URL (default: $REBOUND_STORAGE_URL or the embedded file store)')
    .option('--json')
    .description(
      'exit 0 when every service has a recent enough restore point, 1 naming the stale or failing ones (for cron and monitoring); a point-in-time (pgbackrest) service counts the age of its newest archived WAL, read with pgBackRest on this machine',
    )
    .action(async (o) => {
      const maxAge = parseDuration(o.maxAge);
      if (maxAge === undefined) throw new UsageError(`--max-age expects a duration such as 26h, not "${o.maxAge}"`);
      const points = open(o.storage);
      try {
        const names = await services(points, o.service ?? []);
        if (!names.length) throw new CommandFailed(`no restore points at all in ${points.url}`);
        const now = Date.now();
        const results = await Promise.all(
          names.map(async (s) => {
            // list (unlike latest) includes failed points: the newest one failing is the news.
            const [newest] = await points.list({ service: s, limit: 1 });
            const verified = await points.latest(s, { verified: true });
            const verdict = assess(s, newest, verified, maxAge, !!o.verified, now);
            const base = o.verified ? verified : newest;
            if (!base || !isPitr(base) || newest?.status === 'failed') return verdict;
            return assessArchive(verdict, liveWindowOf(await liveWindows([base], o.runAs), base), maxAge, Date.now());
          }),
        );
        if (o.json) console.log(JSON.stringify({ ok: results.every((r) => r.ok), max_age_ms: maxAge, verified: !!o.verified, services: results }, null, 2));
        else print(results);
        const bad = results.filter((r) => !r.ok);
        if (bad.length) throw new CommandFailed(`stale or failing: ${bad.map((r) => `${r.service} (${r.problem})`).join(', ')}`);
      } finally {
        await closeCatalogs();
      }
    });
}
