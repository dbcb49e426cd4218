// Unit tests of posture's pure parts: colours at the RPO boundaries, services and labels from plans, next fire times, ordering.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/index.ts';
import type { Plan } from '../contract/plan.ts';
import { byColour, judgeAge, judgeRunbook, servicePosture, type PointRecord } from './posture.ts';
import { nextFire, serviceOf, serviceSteps } from './posture-plans.ts';
import { queryString, trendOf } from './posture-runs.ts';

const HOUR = 3_600_000;
const point = (over: Partial<PointRecord> = {}): PointRecord => ({
  id: 'p1',
  service: 'orders',
  kind: 'postgres',
  status: 'verified',
  completed_at: '2026-01-01T00:00:00.000Z',
  size: 10,
  set_id: 's',
  object: 'data.pgdump',
  labels: {},
  ...over,
});

function planOf(text: string): Plan {
  const { plan, errors } = compile(text, { file: 'posture.yaml' });
  if (!plan) throw new Error(errors.map((e) => e.format()).join('\n'));
  return plan;
}

describe('judgeAge', () => {
  const rpo = 10 * HOUR;
  it('is green up to 0.8 × RPO, amber up to the RPO, red beyond', () => {
    expect(judgeAge(point(), 0.8 * rpo, rpo).colour).toBe('green');
    expect(judgeAge(point(), 0.8 * rpo + 1, rpo).colour).toBe('amber');
    expect(judgeAge(point(), rpo, rpo).colour).toBe('amber');
    expect(judgeAge(point(), rpo + 1, rpo)).toEqual({ colour: 'red', problem: 'older than the RPO' });
  });
  it('is red with no point or a failed newest point, grey without an objective', () => {
    expect(judgeAge(undefined, undefined, rpo)).toEqual({ colour: 'red', problem: 'no restore point' });
    expect(judgeAge(point({ status: 'failed' }), 1, rpo).problem).toMatch(/failed verification/);
    expect(judgeAge(point(), 1, undefined).colour).toBe('grey');
  });
});

describe('servicePosture', () => {
  const now = Date.parse('2026-01-02T00:00:00.000Z');
  it('ages the newest point that did not fail, and finds the PITR window and last verification', () => {
    const points = [
      point({ id: 'new', status: 'unverified', completed_at: '2026-01-01T23:00:00.000Z' }),
      point({
        id: 'pitr',
        completed_at: '2026-01-01T20:00:00.000Z',
        verified_at: '2026-01-01T21:00:00.000Z',
        consistency: { method: 'pitr', window: { from: '2026-01-01T00:00:00Z', to: '2026-01-01T22:59:00Z' } },
      }),
    ];
    const steps = [
      { runbook: 'b', step: 'dump', uses: 'postgres.dump', service: 'orders', role: 'backup' as const, labels: { tier: 'gold' }, rpo_ms: 2 * HOUR },
    ];
    const row = servicePosture('orders', steps, points, new Map([['b', '2026-01-02T02:00:00.000Z']]), now);
    expect(row).toMatchObject({ age_ms: HOUR, colour: 'green', rpo_ms: 2 * HOUR, labels: { tier: 'gold' }, next_backup: '2026-01-02T02:00:00.000Z' });
    expect(row.pitr).toEqual({ from: '2026-01-01T00:00:00Z', to: '2026-01-01T22:59:00Z' });
    expect(row.last_verification).toEqual({ at: '2026-01-01T21:00:00.000Z', status: 'verified', point: 'pitr' });
  });
  it('is red when the newest point failed, even with an older good one', () => {
    const points = [point({ id: 'bad', status: 'failed', completed_at: '2026-01-01T23:30:00.000Z' }), point({ completed_at: '2026-01-01T23:00:00.000Z' })];
    const row = servicePosture('orders', [], points, new Map(), now);
    expect(row.colour).toBe('red');
    expect(row.age_ms).toBe(HOUR);
  });
});

describe('ordering', () => {
  it('puts red before amber before grey before green, then by name', () => {
    const rows = [
      { n: 'a', colour: 'green' as const },
      { n: 'b', colour: 'red' as const },
      { n: 'c', colour: 'grey' as const },
      { n: 'a', colour: 'red' as const },
      { n: 'd', colour: 'amber' as const },
    ];
    expect(rows.sort(byColour((r) => r.n)).map((r) => `${r.colour}:${r.n}`)).toEqual(['red:a', 'red:b', 'amber:d', 'grey:c', 'green:a']);
  });
  it('judges runbooks: a missed RTO is red, never drilled amber', () => {
    const drill = { workflow_id: 'w', run_id: 'r', mode: 'drill', state: 'succeeded' as const, started_at: '2026-01-01T00:00:00Z' };
    expect(judgeRunbook(undefined, { ...drill, rto: { measured_ms: 2, objective_ms: 1, met: false } }).colour).toBe('red');
    expect(judgeRunbook(undefined, undefined).colour).toBe('amber');
    expect(judgeRunbook(undefined, { ...drill, rto: { measured_ms: 1, objective_ms: 1, met: true } }).colour).toBe('green');
  });
});

describe('plans', () => {
  it('finds the services nightly-backup backs up, with their labels and the RPO', () => {
    const plan = planOf(readFileSync(new URL('../runbooks/nightly-backup.yaml', import.meta.url), 'utf8'));
    const steps = serviceSteps(plan);
    const backups = steps.filter((s) => s.role === 'backup');
    expect(backups.map((s) => s.service)).toContain('orders-pg');
    expect(backups.every((s) => s.rpo_ms === 24 * HOUR && s.runbook === 'nightly-backup')).toBe(true);
  });
  it('takes a literal service or a parameter default, and finds replication steps', () => {
    const plan = planOf(`apiVersion: rebound/v1
kind: Runbook
metadata: {name: p}
spec:
  objectives: {rpo: 1h}
  parameters: {svc: {type: string, default: billing}}
  secrets: {pg: {env: PG_URL}}
  steps:
    - {id: dump, uses: postgres.dump, with: {source: "\${{ secrets.pg }}", service: "\${{ params.svc }}", storage: {url: "file:///tmp/x"}, labels: {tier: gold}}}
    - {id: lag, uses: postgres.replication, with: {server: "\${{ secrets.pg }}", service: billing}}
`);
    expect(serviceSteps(plan).map((s) => [s.service, s.role, s.labels])).toEqual([
      ['billing', 'backup', { tier: 'gold' }],
      ['billing', 'replication', {}],
    ]);
    expect(serviceOf('${{ steps.x.outputs.y }}', plan)).toBeUndefined();
  });
  it('gives the next cron time in its zone and the next interval multiple', () => {
    const now = Date.parse('2026-03-01T01:30:00.000Z');
    const base = { params: {}, mode: 'run' as const, overlap: 'skip' as const, catchup_window_ms: 60_000, pause_on_failure: false };
    expect(nextFire({ ...base, cron: '0 2 * * *' }, now)).toBe('2026-03-01T02:00:00.000Z');
    expect(nextFire({ ...base, cron: '0 2 * * *', timezone: 'Europe/Berlin' }, now)).toBe('2026-03-02T01:00:00.000Z');
    expect(nextFire({ ...base, every_ms: HOUR }, now)).toBe('2026-03-01T02:00:00.000Z');
  });
});

describe('runs', () => {
  it('quotes visibility query strings', () => {
    expect(queryString('a"b\\c')).toBe('"a\\"b\\\\c"');
  });
  it('makes a trend of measured drills, oldest first', () => {
    const d = (at: string, rto?: number) => ({
      workflow_id: at,
      run_id: 'r',
      mode: 'drill',
      state: 'succeeded' as const,
      started_at: at,
      ...(rto ? { rto: { measured_ms: rto } } : {}),
    });
    expect(trendOf([d('3', 30), d('2'), d('1', 10)])).toEqual([
      { at: '1', rto_ms: 10 },
      { at: '3', rto_ms: 30 },
    ]);
  });
});
