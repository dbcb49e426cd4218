// Restore-point retention: which points of one service a keep_last/daily/weekly/monthly policy keeps, with the min_keep and verified floor.
import type { RestorePoint } from './manifest.ts';

export interface RetentionPolicy {
  keep_last: number;
  keep_daily: number;
  keep_weekly: number;
  keep_monthly: number;
  min_keep: number;
}

function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const year = d.getUTCFullYear();
  const week = Math.ceil(((d.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${week}`;
}

/**
 * Which points of one service a policy keeps (as restic and pgBackRest count them): the
 * newest `keep_last`, then the newest point of each of the newest `keep_daily` days,
 * weeks and months that have one. Failed points are never kept for the policy. The
 * floor: at least `min_keep` points, and the newest verified point always.
 */
export function pointsToKeep(points: RestorePoint[], policy: RetentionPolicy): Set<string> {
  const newest = [...points].sort((a, b) => b.completed_at.localeCompare(a.completed_at) || b.id.localeCompare(a.id));
  const usable = newest.filter((p) => p.status !== 'failed');
  const keep = new Set<string>(usable.slice(0, policy.keep_last).map((p) => p.id));
  const bucket = (count: number, key: (d: Date) => string) => {
    const seen = new Set<string>();
    for (const p of usable) {
      if (seen.size >= count) break;
      const k = key(new Date(p.completed_at));
      if (seen.has(k)) continue;
      seen.add(k);
      keep.add(p.id);
    }
  };
  bucket(policy.keep_daily, (d) => d.toISOString().slice(0, 10));
  bucket(policy.keep_weekly, isoWeek);
  bucket(policy.keep_monthly, (d) => d.toISOString().slice(0, 7));
  const lastVerified = usable.find((p) => p.status === 'verified');
  if (lastVerified) keep.add(lastVerified.id);
  for (const p of usable) {
    if (keep.size >= policy.min_keep) break;
    keep.add(p.id);
  }
  return keep;
}
