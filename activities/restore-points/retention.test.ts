// Unit tests of restore-point retention: keep_last, daily/weekly/monthly buckets, the min_keep floor, the newest verified point, failed points.
import { describe, expect, it } from 'vitest';
import type { RestorePoint } from './manifest.ts';
import { pointsToKeep } from './retention.ts';

const point = (id: string, completed: string, status: RestorePoint['status'] = 'unverified'): RestorePoint => ({
  format: 'rebound.restore-point/v1',
  id,
  service: 's',
  kind: 'postgres',
  object: 'data',
  size: 1,
  sha256: 'x',
  started_at: completed,
  completed_at: completed,
  set_id: id,
  run_id: id,
  step: 'dump',
  source: {},
  tool: { name: 'pg_dump', version: '15' },
  server_version: '15',
  labels: {},
  storage: 'file:///x',
  status,
});
const none = { keep_last: 0, keep_daily: 0, keep_weekly: 0, keep_monthly: 0, min_keep: 1 };

describe('retention', () => {
  const points = [
    point('a', '2026-01-01T01:00:00Z', 'verified'),
    point('b', '2026-01-01T23:00:00Z'),
    point('c', '2026-01-02T10:00:00Z'),
    point('d', '2026-01-09T10:00:00Z', 'failed'),
    point('e', '2026-02-03T10:00:00Z'),
    point('f', '2026-02-03T12:00:00Z'),
  ];

  it('keep_last keeps the newest points that did not fail', () => {
    expect([...pointsToKeep(points, { ...none, keep_last: 2 })].sort()).toEqual(['a', 'e', 'f']);
  });

  it('daily, weekly and monthly keep the newest point of each period', () => {
    expect([...pointsToKeep(points, { ...none, keep_daily: 3 })].sort()).toEqual(['a', 'b', 'c', 'f']);
    expect([...pointsToKeep(points, { ...none, keep_weekly: 2 })].sort()).toEqual(['a', 'c', 'f']);
    expect([...pointsToKeep(points, { ...none, keep_monthly: 12 })].sort()).toEqual(['a', 'c', 'f']);
  });

  it('keeps the last verified point even when the policy keeps nothing', () => {
    expect([...pointsToKeep(points, none)]).toEqual(['a']);
  });

  it('min_keep is a floor of newest usable points; failed points never count', () => {
    const unverified = points.map((p) => ({ ...p, status: p.status === 'failed' ? ('failed' as const) : ('unverified' as const) }));
    expect([...pointsToKeep(unverified, { ...none, min_keep: 3 })].sort()).toEqual(['c', 'e', 'f']);
    expect(pointsToKeep([point('x', '2026-01-01T00:00:00Z', 'failed')], none).size).toBe(0);
  });
});
