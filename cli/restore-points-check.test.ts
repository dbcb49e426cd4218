// The freshness verdict of `restore-points check`: newest point, failed verification, age, verified-only.
import { describe, expect, it } from 'vitest';
import type { RestorePoint } from '../activities/restore-points/index.ts';
import { ageText, assess, assessArchive } from './restore-points-check.ts';

const now = Date.parse('2026-01-02T00:00:00Z');
const point = (id: string, hoursAgo: number, status: RestorePoint['status']) =>
  ({ id, status, completed_at: new Date(now - hoursAgo * 3_600_000).toISOString() }) as RestorePoint;
const day = 24 * 3_600_000;

describe('restore-points check', () => {
  it('judges the newest point, or the newest verified one', () => {
    expect(assess('s', point('a', 2, 'unverified'), undefined, day, false, now)).toMatchObject({ ok: true, point: 'a', age_ms: 2 * 3_600_000 });
    expect(assess('s', point('a', 2, 'unverified'), undefined, day, true, now)).toMatchObject({ ok: false, problem: 'no verified restore point' });
    expect(assess('s', point('a', 2, 'unverified'), point('b', 30, 'verified'), day, true, now)).toMatchObject({
      ok: false,
      problem: 'newest verified point is 30h old (max 24h)',
    });
    expect(assess('s', point('a', 1, 'failed'), point('b', 2, 'verified'), day, true, now)).toMatchObject({
      ok: false,
      problem: 'newest point a failed verification',
    });
    expect(assess('s', undefined, undefined, day, false, now)).toMatchObject({ ok: false, problem: 'no restore point' });
  });

  it('writes ages to the minute', () => {
    expect([ageText(45 * 60_000), ageText(2.5 * 3_600_000), ageText(3 * 3_600_000)]).toEqual(['45m', '2h30m', '3h']);
    expect([ageText(12_400), ageText(59_400), ageText(59_600)]).toEqual(['12s', '59s', '1m']);
  });

  it("judges a point-in-time service by the age of its newest archived WAL, whatever its base backup's", () => {
    const base = assess('orders-pg', point('a', 72, 'verified'), point('a', 72, 'verified'), day, false, now);
    expect(base.ok).toBe(false);
    const window = (toAgo: number) => ({ from: new Date(now - 3 * day).toISOString(), to: new Date(now - toAgo).toISOString() });
    expect(assessArchive(base, window(20_000), 60_000, now)).toMatchObject({ ok: true, age_ms: 20_000, measured: 'archived_wal', point: 'a' });
    expect(assessArchive(base, window(5 * 60_000), 60_000, now)).toMatchObject({ ok: false, problem: 'newest archived WAL is 5m old (max 1m)' });
    expect(assessArchive(base, undefined, 60_000, now)).toMatchObject({ ok: false, problem: 'its repository holds no valid backup' });
    expect(assessArchive(base, new Error('pgBackRest info of stanza main: denied'), 60_000, now)).toMatchObject({
      ok: false,
      problem: 'cannot read its repository: pgBackRest info of stanza main: denied',
    });
  });
});
