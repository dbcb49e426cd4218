// Unit tests of the posture, restore-points and drill-history renderers: hostile names and labels escaped, failing rows first, the form a GET, approvals shown.
import { describe, expect, it } from 'vitest';
import type { Posture, PointRecord } from '../../client/posture.ts';
import type { DrillRecord } from '../../client/drill-history.ts';
import { renderPosture } from './posture.ts';
import { renderRestorePoints } from './restore-points.ts';
import { renderDrillHistory } from './drills.ts';

const HOSTILE = '<img src=x onerror=alert(1)>"\'&';
const point = (over: Partial<PointRecord> = {}): PointRecord => ({
  id: 'p1',
  service: 'orders',
  kind: 'postgres',
  status: 'verified',
  completed_at: '2026-01-01T00:00:00.000Z',
  verified_at: '2026-01-01T00:10:00.000Z',
  size: 2048,
  set_id: 'set-1',
  object: 'data.pgdump',
  labels: {},
  ...over,
});

/** No tag or attribute the hostile text could open survives: only its escaped form. */
function expectEscaped(html: string): void {
  expect(html).not.toContain('<img');
  expect(html).not.toContain('onerror=alert(1)>"');
  expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
}

const posture: Posture = {
  generated_at: '2026-01-02T00:00:00.000Z',
  catalog: 'file:///tmp/store',
  services: [
    { service: HOSTILE, runbooks: [HOSTILE], labels: { [HOSTILE]: HOSTILE }, colour: 'red', problem: 'no restore point' },
    {
      service: 'orders',
      runbooks: ['nightly'],
      labels: {},
      rpo_ms: 3_600_000,
      age_ms: 60_000,
      newest: point(),
      colour: 'green',
      replica_lag: { lag_ms: 1500, runbook: 'r', step: 's', workflow_id: 'w' },
    },
  ],
  runbooks: [
    {
      runbook: HOSTILE,
      file: HOSTILE,
      objectives: { rto_ms: 60_000 },
      services: [],
      trend: [{ at: '2026-01-01T00:00:00Z', rto_ms: 50_000 }],
      last_drill: {
        workflow_id: 'w',
        run_id: 'r',
        mode: 'drill',
        state: 'succeeded',
        started_at: '2026-01-01T00:00:00Z',
        rto: { measured_ms: 50_000, objective_ms: 60_000, met: true },
      },
      colour: 'green',
    },
  ],
};

describe('renderPosture', () => {
  it('escapes hostile service names, labels, runbook names and files', () => {
    const html = renderPosture(posture);
    expectEscaped(html);
    expect(html).toContain(`href="/runbooks/${encodeURIComponent(HOSTILE).replace(/'/g, '&#39;')}/drills"`);
  });
  it('keeps the failing row first, says so in words, and shows lag, RTO and the chart', () => {
    const html = renderPosture(posture);
    const rows = html.split('<tr>').slice(2);
    expect(rows[0]).toContain('c-red');
    expect(rows[0]).toContain('stale');
    expect(rows[1]).toContain('c-green');
    expect(html).toContain('replica lag 1.5 s');
    expect(html).toContain('RTO 50.0 s / 60.0 s <span class="met">met</span>');
    expect(html.match(/<circle class="point rto"/g)).toHaveLength(1);
  });
});

describe('renderRestorePoints', () => {
  const now = Date.parse('2026-01-02T00:00:00.000Z');
  const points = [
    point({ id: 'ok-new', service: 'billing', completed_at: '2026-01-01T23:00:00.000Z', set_id: 'both' }),
    point({ id: 'bad', service: 'orders', status: 'failed', completed_at: '2026-01-01T22:00:00.000Z', set_id: 'both' }),
    point({ id: 'h', service: HOSTILE, status: 'unverified', kind: HOSTILE, set_id: HOSTILE, labels: { [HOSTILE]: HOSTILE } }),
  ];
  it('puts the service whose newest point failed first, then one with none verified', () => {
    const html = renderRestorePoints({ points, now });
    const order = [...html.matchAll(/<caption>([^<]*) \(\d+ points\)<\/caption>/g)].map((m) => m[1]);
    expect(order).toEqual(['orders', '&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;', 'billing']);
    expectEscaped(html);
    expect(html).toContain('2.0 KiB');
    expect(html).toContain('<code>both</code>');
  });
  it('shows evidence and the latest-verified form as a GET to /restore-points/latest', () => {
    const evidence = new Map([['ok-new', { detail: `restored ${HOSTILE}`, checks: [{ check: 'rows', ok: true, detail: HOSTILE }] }]]);
    const html = renderRestorePoints({ points, now, evidence, latest: { service: HOSTILE, before: '2026-01-01T00:00:00Z', point: points[0] } });
    expect(html).toContain('<form method="get" action="/restore-points/latest"');
    expect(html).toMatch(/<label for="latest-service">/);
    expect(html).toContain('<details>');
    expect(html).toContain('<code>ok-new</code>, completed');
    expectEscaped(html);
  });
});

describe('renderDrillHistory', () => {
  const drill = (at: string, rto: number, approver: string): DrillRecord => ({
    workflow_id: `d-${at}`,
    run_id: 'r',
    mode: 'drill',
    state: 'succeeded',
    started_at: at,
    trigger: { kind: 'schedule', by: 'schedule:x' },
    objectives: { rto_ms: 100 },
    rto: { measured_ms: rto, objective_ms: 100, met: rto <= 100 },
    approvals: [
      {
        step: 'gate',
        status: 'succeeded',
        decision: 'approved',
        by: approver,
        approved_by: [approver],
        votes: [{ by: 'mallory', decision: 'approve', channel: 'signal', at, reason: '', counted: false, refused: 'unsigned' }],
      },
    ],
  });
  it('lists drills newest first with verdicts and approvers, escaped, and a point per drill', () => {
    const html = renderDrillHistory(HOSTILE, [
      drill('2026-01-03T00:00:00Z', 150, HOSTILE),
      drill('2026-01-02T00:00:00Z', 90, 'alice'),
      drill('2026-01-01T00:00:00Z', 80, 'bob'),
    ]);
    expectEscaped(html);
    expect(html.match(/<circle class="point rto"/g)).toHaveLength(3);
    const rows = html.split('<tbody>')[1]!.split('<tr>').slice(1);
    expect(rows[0]).toContain('missed');
    expect(rows[1]).toContain('approved by alice');
    expect(rows[2]).toContain('by bob');
    expect(html).toContain('refused: mallory (unsigned)');
    expect(html).toContain('RTO met in 2 of 3 judged');
  });
  it('says so when there are none', () => {
    expect(renderDrillHistory('x', [])).toContain('No drills of <strong>x</strong>');
  });
});
