// Unit tests of run reports: RTO/RPO against objectives, timeline and Gantt chart, approvals, changes made or would be made, rendering.
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.ts';
import type { RunStatus, StepState } from '../../contract/run.ts';
import { buildReport } from './build.ts';
import { ganttSvg } from './gantt.ts';
import { renderReport } from './render.ts';

const RUNBOOK = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: orders-failover}
spec:
  objectives: {rto: 10s, rpo: 1h}
  steps:
    - {id: gate, uses: approval, with: {timeout: 1m}}
    - {id: restore, uses: catalog.resolve, with: {restore_point: {service: orders-pg}}}
    - id: switch-dns
      name: "Name <to> standby"
      uses: dns.switch
      with: {provider: powerdns, zone: example.org., name: orders.example.org., type: A, values: ["10.0.1.1"], powerdns: {api_url: "http://127.0.0.1:1", api_key: "\${{ secrets.k }}"}}
    - {id: validate, uses: http.check, with: {url: "http://x/health"}}
  secrets: {k: {env: K}}
`;
const planFor = (mode: 'run' | 'drill') => compile(RUNBOOK, { file: 'rb.yaml', mode }).plan!;
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const step = (id: string, uses: string, from: number, to: number, extra: Partial<StepState> = {}): StepState => ({
  id,
  uses,
  phase: 'main',
  execution: 'run',
  status: 'succeeded',
  attempt: 1,
  started_at: at(from),
  ended_at: at(to),
  continue_on_error: false,
  ...extra,
});
const dnsOutputs = (simulated: boolean) => ({
  provider: 'powerdns',
  previous: { values: ['10.0.0.1'], ttl: 300 },
  current: { values: ['10.0.1.1'], ttl: 60 },
  changed: true,
  simulated,
  ...(simulated ? { preflight: ['zone example.org. exists', 'would set orders.example.org. A from [10.0.0.1] (ttl 300) to [10.0.1.1] (ttl 60)'] } : {}),
});
const statusFor = (mode: 'run' | 'drill'): RunStatus => ({
  runbook: 'orders-failover',
  plan_hash: planFor(mode).hash,
  mode,
  state: 'succeeded',
  started_at: at(0),
  ended_at: at(14),
  steps: [
    step('gate', 'approval', 0, 3, { outputs: { decision: 'approved', by: 'alice', reason: 'primary is gone <really>', timed_out: false } }),
    step('restore', 'catalog.resolve', 3, 4, { outputs: { restore_point_id: 'rp-1', restore_point_age_ms: 1_800_000 }, worker: '42@dr-host' }),
    step('switch-dns', 'dns.switch', 4, 8, { execution: mode === 'drill' ? 'simulate' : 'run', attempt: 2, outputs: dnsOutputs(mode === 'drill') }),
    step('validate', 'http.check', 8, 14),
  ],
});

describe('run reports', () => {
  it('measures RTO to the last switch and to the end, RPO from the restore points used, against the objectives', () => {
    const report = buildReport({ workflowId: 'run-1', plan: planFor('run'), status: statusFor('run') });
    expect(report.origin).toEqual({ kind: 'run_start', at: at(0) });
    expect(report.rto).toEqual({ objective_ms: 10_000, to_switch_ms: 8_000, switched_at: at(8), to_end_ms: 14_000, met: true });
    expect(report.rpo).toEqual({
      objective_ms: 3_600_000,
      worst_ms: 1_800_000,
      points: [{ step: 'restore', restore_point: 'rp-1', age_ms: 1_800_000, source: 'restore_point', method: 'point age' }],
      services: [],
      met: true,
    });
    expect(report.approvals).toEqual([{ step: 'gate', decision: 'approved', by: 'alice', reason: 'primary is gone <really>', at: at(3), timed_out: false }]);
    expect(report.changes).toEqual([
      expect.objectContaining({ step: 'switch-dns', simulated: false, changed: true, previous: { values: ['10.0.0.1'], ttl: 300 }, at: at(8) }),
    ]);
    expect(report.timeline.map((t) => [t.id, t.duration_ms, t.worker])).toEqual([
      ['gate', 3000, undefined],
      ['restore', 1000, '42@dr-host'],
      ['switch-dns', 4000, undefined],
      ['validate', 6000, undefined],
    ]);
  });

  it("counts a child runbook's steps as the run's: its switch ends the RTO clock, its changes and approvals are listed", () => {
    const parent = compile(
      `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: orders-dr}\nspec:\n  objectives: {rto: 10s}\n  steps:\n    - {id: failover, uses: runbook, with: {path: rb.yaml}}\n    - {id: notify, uses: log, with: {message: done}}\n`,
      { file: 'parent.yaml', load: (p) => (p === 'rb.yaml' ? { file: p, text: RUNBOOK } : undefined) },
    ).plan!;
    const status: RunStatus = {
      ...statusFor('run'),
      runbook: 'orders-dr',
      plan_hash: parent.hash,
      ended_at: at(16),
      steps: [step('failover', 'runbook', 0, 15, { outputs: { status: 'succeeded' } }), step('notify', 'log', 15, 16)],
    };
    const report = buildReport({ workflowId: 'run-2', plan: parent, status, children: { failover: { plan: planFor('run'), status: statusFor('run') } } });
    expect(report.rto).toMatchObject({ objective_ms: 10_000, to_switch_ms: 8_000, switched_at: at(8), to_end_ms: 16_000, met: true });
    expect(report.changes.map((c) => [c.step, c.changed])).toEqual([['failover.switch-dns', true]]);
    expect(report.approvals.map((a) => [a.step, a.by])).toEqual([['failover.gate', 'alice']]);
    expect(report.timeline.map((t) => t.id)).toEqual(['failover', 'failover.gate', 'failover.restore', 'failover.switch-dns', 'failover.validate', 'notify']);
    // Without the child's record the run shows no switch: the whole run is the measure.
    expect(buildReport({ workflowId: 'run-2', plan: parent, status }).rto).toMatchObject({ note: 'no production switch succeeded', met: false });
  });

  it("gives each service's RPO: the oldest point restored for it, and a replica's lag", () => {
    const status = statusFor('drill');
    const minutes = (m: number) => m * 60_000;
    status.steps = [
      step('set', 'catalog.resolve_set', 0, 1, { outputs: { set_id: 's1', restore_point_age_ms: minutes(50) } }),
      step('orders', 'postgres.restore', 1, 3, { outputs: { restore_point_id: 'rp-pg', service: 'orders-pg', restore_point_age_ms: minutes(40) } }),
      step('shop', 'mongodb.restore', 1, 4, { outputs: { restore_point_id: 'rp-mongo', service: 'orders-mongo', restore_point_age_ms: minutes(90) } }),
      step('again', 'postgres.restore', 4, 5, { outputs: { restore_point_id: 'rp-pg2', service: 'orders-pg', restore_point_age_ms: minutes(45) } }),
      step('media', 'objects.check', 1, 2, { outputs: { lag_ms: minutes(5), oldest_unreplicated: 'img/1.png', missing: 1 } }),
      step('skipped', 'redis.restore', 1, 2, { status: 'skipped', outputs: { service: 'cache', restore_point_age_ms: minutes(999) } }),
    ];
    const report = buildReport({ workflowId: 'drill-1', plan: planFor('drill'), status });
    expect(report.rpo.services).toEqual([
      { service: 'orders-mongo', age_ms: minutes(90), steps: ['shop'], methods: ['point age'] },
      { service: 'orders-pg', age_ms: minutes(45), steps: ['orders', 'again'], methods: ['point age'] },
      { service: 'replica (media)', age_ms: minutes(5), steps: ['media'], methods: ['replica lag'] },
    ]);
    expect(report.rpo).toMatchObject({ worst_ms: minutes(90), met: false });
    const md = renderReport(report, 'md');
    expect(md).toContain('| RPO: orders-mongo | 1h | 1h30m | MISSED | steps: shop (point age) |');
    expect(md).toContain('| RPO: orders-pg | 1h | 45m | met | steps: orders, again (point age) |');
    expect(md).toContain('| RPO: step media |  | 5m |  | replica lag |');
    expect(md).toContain('| RPO: step orders |  | 40m |  | point age: rp-pg |');
  });

  it("takes a step's own measured RPO (a PITR restore's gap) over its base backup's age, and skips one that could not tell", () => {
    const status = statusFor('drill');
    status.steps = [
      step('pitr', 'pgbackrest.restore', 0, 1, {
        outputs: { restore_point_id: 'rp-b', service: 'orders-pg', restore_point_age_ms: 86_400_000, rpo_ms: 2_000, rpo_method: 'PITR gap' },
      }),
      step('placed', 'pgbackrest.restore', 1, 2, {
        outputs: { restore_point_id: 'rp-b', service: 'ledger-pg', restore_point_age_ms: 86_400_000, rpo_ms: null },
      }),
    ];
    const report = buildReport({ workflowId: 'drill-2', plan: planFor('drill'), status });
    expect(report.rpo.services).toEqual([{ service: 'orders-pg', age_ms: 2_000, steps: ['pitr'], methods: ['PITR gap'] }]);
    expect(report.rpo).toMatchObject({ worst_ms: 2_000, met: true });
    expect(renderReport(report, 'md')).toContain('| RPO: orders-pg | 1h | 2s | met | steps: pitr (PITR gap) |');
  });

  it("starts the RTO clock at an alert's startsAt when an alert started the run", () => {
    const trigger = {
      kind: 'alert' as const,
      alert: {
        status: 'firing' as const,
        labels: { alertname: 'OrdersDown' },
        annotations: {},
        starts_at: at(-20),
        fingerprint: 'f',
        source: 'alertmanager' as const,
      },
    };
    const report = buildReport({ workflowId: 'run-1', plan: planFor('run'), status: statusFor('run'), trigger });
    expect(report.origin).toEqual({ kind: 'alert', at: at(-20), alert: 'OrdersDown' });
    expect(report.rto).toMatchObject({ to_switch_ms: 28_000, to_end_ms: 34_000, met: false });
  });

  it('a rejected approval records who rejected it and why', () => {
    const status = statusFor('run');
    status.steps[0] = step('gate', 'approval', 0, 2, { status: 'failed', reason: 'rejected by bob: not yet' });
    status.state = 'failed';
    expect(buildReport({ workflowId: 'r', plan: planFor('run'), status }).approvals).toEqual([
      { step: 'gate', decision: 'rejected', by: 'bob', reason: 'not yet', at: at(2), timed_out: false },
    ]);
  });

  it('a drill lists the would-be changes with their preflight results', () => {
    const report = buildReport({ workflowId: 'drill-1', plan: planFor('drill'), status: statusFor('drill') });
    expect(report.changes[0]).toMatchObject({ simulated: true, changed: true, preflight: [expect.any(String), expect.stringMatching(/^would set/)] });
    expect(report.rto.note).toMatch(/drill/);
    const md = renderReport(report, 'md');
    expect(md).toContain('# DR drill report: orders-failover — succeeded');
    expect(md).toContain('## Changes a run would make (drill preflights)');
    expect(md).toContain(
      '| switch-dns | dns.switch | succeeded | preflight passed; would change | {"values":["10.0.0.1"],"ttl":300} | {"values":["10.0.1.1"],"ttl":60} |',
    );
    expect(md).toContain('- `switch-dns`: would set orders.example.org. A from [10.0.0.1] (ttl 300) to [10.0.1.1] (ttl 60)');
  });

  it('renders Markdown with the objectives, an embedded SVG timeline, approvals and changes', () => {
    const md = renderReport(buildReport({ workflowId: 'run-1', plan: planFor('run'), status: statusFor('run') }), 'md');
    expect(md).toContain('| RTO: to traffic switched | 10s | 8s | met |  |');
    expect(md).toContain('| RPO: worst measured | 1h | 30m | met |  |');
    expect(md).toContain('| gate | approved | alice | 2026-01-01T00:00:03.000Z | primary is gone <really> |');
    expect(md).toContain('| switch-dns | dns.switch | main | succeeded | 2 |');
    expect(md).toMatch(/## Timeline\n\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^]*<\/svg>\n/);
    expect(md).toContain('## Changes made');
  });

  it('lists who was told of what, with why a notification failed; a run that told no one has no such section', () => {
    const status: RunStatus = {
      ...statusFor('run'),
      notifications: [
        { event: 'approval_waiting', step: 'gate', status: 'sent', at: at(3), channels: ['oncall', 'pager'] },
        { event: 'succeeded', status: 'failed', at: at(40), reason: 'channel "oncall" (slack) answered 404: no_service' },
      ],
    };
    const md = renderReport(buildReport({ workflowId: 'run-1', plan: planFor('run'), status }), 'md');
    expect(md).toContain('## Notifications');
    expect(md).toContain('| approval_waiting (gate) | sent | 2026-01-01T00:00:03.000Z | oncall, pager |');
    expect(md).toContain('| succeeded | failed | 2026-01-01T00:00:40.000Z | channel "oncall" (slack) answered 404: no_service |');
    expect(renderReport(buildReport({ workflowId: 'run-1', plan: planFor('run'), status: statusFor('run') }), 'md')).not.toContain('## Notifications');
  });

  it('renders HTML with every text escaped, and JSON that round-trips', () => {
    const report = buildReport({ workflowId: 'run-1', plan: planFor('run'), status: statusFor('run') });
    const html = renderReport(report, 'html');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('primary is gone &lt;really&gt;');
    expect(html).not.toContain('<really>');
    expect(html).toContain('<svg');
    expect(JSON.parse(renderReport(report, 'json'))).toEqual(report);
  });

  it('draws one bar per started step, scaled from the origin, with escaped labels and titles', () => {
    const report = buildReport({ workflowId: 'run-1', plan: planFor('run'), status: statusFor('run') });
    const svg = ganttSvg(
      [...report.timeline, { id: 'later<x>', uses: 'log', phase: 'main', execution: 'run', status: 'skipped', attempt: 0 }],
      report.origin.at,
    );
    const bars = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"[^>]*fill="(#[0-9a-f]{6})"/g)];
    expect(bars).toHaveLength(4); // the skipped step never started: a label, no bar
    expect(Number(bars[0]![1])).toBe(200); // the first step starts at the origin
    expect(Number(bars[3]![1]) + Number(bars[3]![2])).toBeCloseTo(830, 0); // the last ends at the right edge
    expect(svg).toContain('switch-dns ×2');
    expect(svg).toContain('later&lt;x&gt;');
    expect(svg).not.toContain('<x>');
    expect(svg.match(/<svg/g)).toHaveLength(1);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });

  it('says which site did what: per site the steps that succeeded, those that failed with why, and the workers', () => {
    const text = `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: sites}\nspec:
  sites: [primary, dr]
  site: dr
  steps:
    - {id: fence, uses: log, site: primary, site_timeout: 3s, continue_on_error: true, with: {message: fence}}
    - {id: promote, uses: log, with: {message: promote}}
    - {id: gate, uses: approval, with: {timeout: 1m}}
`;
    const plan = compile(text, { file: 'rb.yaml', mode: 'run' }).plan!;
    const status: RunStatus = {
      runbook: 'sites',
      plan_hash: plan.hash,
      mode: 'run',
      state: 'succeeded',
      started_at: at(0),
      ended_at: at(9),
      steps: [
        step('fence', 'log', 0, 3, { status: 'failed', attempt: 0, reason: 'no worker for site primary: nothing polled task queue rebound-primary within 3s' }),
        step('promote', 'log', 3, 8, { attempt: 2, worker: '7@dr-b', task_queue: 'rebound-dr' }),
        step('gate', 'approval', 8, 9, { outputs: { decision: 'approved', by: 'bob', reason: 'ok', timed_out: false } }),
      ],
    };
    const report = buildReport({ workflowId: 'run-2', plan, status });
    expect(report.sites).toEqual([
      {
        site: 'primary',
        succeeded: [],
        failed: ['fence: no worker for site primary: nothing polled task queue rebound-primary within 3s'],
        other: [],
        workers: [],
      },
      { site: 'dr', succeeded: ['promote'], failed: [], other: [], workers: ['7@dr-b'] },
    ]);
    expect(report.timeline.map((t) => [t.id, t.site])).toEqual([
      ['fence', 'primary'],
      ['promote', 'dr'],
      ['gate', undefined], // the workflow's own step: no site's worker runs it
    ]);
    const md = renderReport(report, 'md');
    expect(md).toContain('## Sites');
    expect(md).toMatch(/\| primary \|[^\n]*no worker for site primary/);
    // A runbook that names no sites and ran on one queue has no such section.
    expect(buildReport({ workflowId: 'run-1', plan: planFor('run'), status: statusFor('run') }).sites).toBeUndefined();
  });
});
