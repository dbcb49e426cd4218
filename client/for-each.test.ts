// A for_each run's record as failback and the report read it: each iteration's change undone on its own, the loop itself no change.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/index.ts';
import type { RunStatus, StepState } from '../contract/run.ts';
import { buildFailback } from './failback.ts';
import { buildReport } from './report/build.ts';

const RUNBOOK = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: loop-failover}
spec:
  secrets: {pdns_key: {env: PDNS_KEY}}
  steps:
    - id: dns
      name: "switch \${{ item }}"
      for_each: [orders, payments]
      uses: dns.switch
      with:
        provider: powerdns
        zone: example.org.
        name: "\${{ item }}.example.org."
        type: A
        values: ["10.0.1.1"]
        powerdns: {api_url: "http://127.0.0.1:8081", api_key: "\${{ secrets.pdns_key }}"}
    - id: tell
      for_each: [lb]
      steps:
        - {id: call, uses: http.request, with: {method: PUT, url: "http://\${{ item }}/pools/orders"}}
`;

const plan = compile(RUNBOOK, { file: 'loop.yaml' }).plan!;
const at = (second: number) => `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`;
const state = (id: string, uses: string, ended: number, more: Partial<StepState> = {}): StepState => ({
  id,
  uses,
  phase: 'main',
  execution: 'run',
  status: 'succeeded',
  attempt: 1,
  started_at: at(ended - 1),
  ended_at: at(ended),
  continue_on_error: false,
  ...more,
});
const dnsWith = (name: string) => ({
  provider: 'powerdns',
  zone: 'example.org.',
  name,
  type: 'A',
  values: ['10.0.1.1'],
  powerdns: { api_url: 'http://127.0.0.1:8081', api_key: { $secret: 'pdns_key' } },
});
const switched = { previous: { values: ['10.0.0.1'], ttl: 300 }, current: { values: ['10.0.1.1'], ttl: 300 }, changed: true, simulated: false };
const status: RunStatus = {
  runbook: plan.name,
  plan_hash: plan.hash,
  mode: 'run',
  state: 'succeeded',
  started_at: at(0),
  ended_at: at(20),
  steps: [
    state('dns', 'dns.switch', 9, { iterations: 2, outputs: { items: ['orders', 'payments'] } }),
    state('dns[0]', 'dns.switch', 5, { name: 'switch orders', outputs: switched }),
    state('dns[1]', 'dns.switch', 9, { name: 'switch payments', outputs: switched }),
    state('tell', 'group', 12, { iterations: 1, outputs: { items: ['lb'] } }),
    state('tell[0]', 'group', 12),
    state('tell[0].call', 'http.request', 12, { outputs: { status: 200 } }),
  ],
};
const inputs = {
  'dns[0]': dnsWith('orders.example.org.'),
  'dns[1]': dnsWith('payments.example.org.'),
  'tell[0].call': { method: 'PUT', url: 'http://lb/pools/orders' },
};

describe('a for_each run on record', () => {
  it('fails back each iteration on its own, newest first; the loop step itself changed nothing', () => {
    const { plan: failback, items } = buildFailback({ workflowId: 'loop-1', plan, status, inputs }, { mode: 'run' });
    expect(items.map((i) => [i.step, i.action, i.failback_step])).toEqual([
      ['tell[0].call', 'manual', 'manual-tell[0].call'],
      ['dns[1]', 'revert', 'revert-dns[1]'],
      ['dns[0]', 'revert', 'revert-dns[0]'],
    ]);
    const reverts = failback.steps.filter((s) => s.uses === 'dns.switch');
    expect(reverts.map((s) => [s.id, s.with.name, s.needs, 'for_each' in s])).toEqual([
      ['revert-dns[1]', 'payments.example.org.', ['manual-tell[0].call'], false],
      ['revert-dns[0]', 'orders.example.org.', ['revert-dns[1]'], false],
    ]);
    expect(reverts[0]!.with.expect_current).toEqual({ values: ['10.0.1.1'], ttl: 300 });
  });

  it("the report lists each iteration (a group's steps too) as a change and names it; the loop row is in the timeline but is no change", () => {
    const report = buildReport({ workflowId: 'loop-1', plan, status });
    expect(report.changes.map((c) => [c.step, c.uses, c.changed])).toEqual([
      ['dns[0]', 'dns.switch', true],
      ['dns[1]', 'dns.switch', true],
      ['tell[0].call', 'http.request', undefined],
    ]);
    expect(report.timeline.map((t) => [t.id, t.name])).toEqual([
      ['dns', 'switch ${{ item }}'],
      ['dns[0]', 'switch orders'],
      ['dns[1]', 'switch payments'],
      ['tell', undefined],
      ['tell[0]', undefined],
      ['tell[0].call', undefined],
    ]);
  });
});
