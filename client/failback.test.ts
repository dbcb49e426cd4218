// Unit tests of the failback builder: what a run changed, newest first, guarded, forced, manual, drilled.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/index.ts';
import type { RunStatus, StepState } from '../contract/run.ts';
import { buildFailback, describeFailback, FailbackError } from './failback.ts';

const RUNBOOK = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: orders-failover}
spec:
  sites: [primary, dr]
  secrets: {pdns_key: {env: PDNS_KEY}, lb_token: {env: LB_TOKEN}}
  steps:
    - {id: check, uses: http.check, with: {url: "http://standby/health"}}
    - id: switch-lb
      uses: routing.switch
      site: dr
      with: {provider: haproxy, haproxy: {socket: "tcp://127.0.0.1:9999", backend: web, servers: {primary: {state: maint}, standby: {state: ready}}}}
    - id: switch-dns
      uses: dns.switch
      with:
        provider: powerdns
        zone: example.org.
        name: orders.example.org.
        type: A
        values: ["10.0.1.1"]
        powerdns: {api_url: "http://127.0.0.1:8081", api_key: "\${{ secrets.pdns_key }}"}
    - id: tell-lb
      uses: http.request
      with: {method: PUT, url: "http://lb/pools/orders", headers: {Authorization: "Bearer \${{ secrets.lb_token }}"}}
    - id: noop-dns
      uses: dns.switch
      with: {provider: powerdns, zone: example.org., name: api.example.org., type: A, values: ["10.0.1.2"], powerdns: {api_url: "http://127.0.0.1:8081", api_key: "\${{ secrets.pdns_key }}"}}
`;

const plan = compile(RUNBOOK, { file: 'failover.yaml' }).plan!;
const secret = { $secret: 'pdns_key' };
const dnsWith = (name: string, value: string) => ({
  provider: 'powerdns',
  zone: 'example.org.',
  name,
  type: 'A',
  values: [value],
  powerdns: { api_url: 'http://127.0.0.1:8081', api_key: secret },
});
const lbWith = {
  provider: 'haproxy',
  haproxy: { socket: 'tcp://127.0.0.1:9999', backend: 'web', servers: { primary: { state: 'maint' }, standby: { state: 'ready' } } },
};
const inputs = {
  check: { url: 'http://standby/health' },
  'switch-lb': lbWith,
  'switch-dns': dnsWith('orders.example.org.', '10.0.1.1'),
  'tell-lb': { method: 'PUT', url: 'http://lb/pools/orders', headers: { Authorization: { $interpolate: ['Bearer ', { $secret: 'lb_token' }] } } },
  'noop-dns': dnsWith('api.example.org.', '10.0.1.2'),
};

const at = (second: number) => `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`;
const step = (id: string, uses: string, ended: number, outputs: Record<string, unknown>): StepState => ({
  id,
  uses,
  phase: 'main',
  execution: 'run',
  status: 'succeeded',
  attempt: 1,
  started_at: at(ended - 1),
  ended_at: at(ended),
  outputs,
  continue_on_error: false,
});
const haproxyState = (primary: string, standby: string) => ({ primary: { state: primary, weight: 1 }, standby: { state: standby, weight: 1 } });
const status: RunStatus = {
  runbook: plan.name,
  plan_hash: plan.hash,
  mode: 'run',
  state: 'succeeded',
  started_at: at(0),
  ended_at: at(30),
  steps: [
    step('check', 'http.check', 2, { status: 200 }),
    step('switch-lb', 'routing.switch', 5, {
      provider: 'haproxy',
      previous: haproxyState('ready', 'maint'),
      current: haproxyState('maint', 'ready'),
      changed: true,
      simulated: false,
    }),
    step('switch-dns', 'dns.switch', 9, {
      previous: { values: ['10.0.0.1'], ttl: 300 },
      current: { values: ['10.0.1.1'], ttl: 60 },
      changed: true,
      simulated: false,
    }),
    step('tell-lb', 'http.request', 12, { status: 200 }),
    step('noop-dns', 'dns.switch', 14, {
      previous: { values: ['10.0.1.2'], ttl: 60 },
      current: { values: ['10.0.1.2'], ttl: 60 },
      changed: false,
      simulated: false,
    }),
  ],
};
const record = { workflowId: 'orders-failover-run-1', plan, status, inputs };

describe('failback from the record', () => {
  it('reverts succeeded production steps newest first, guarded by what the run set; manual work behind an approval', () => {
    const { plan: failback, items } = buildFailback(record, { mode: 'run' });
    expect(items.map((i) => [i.step, i.action, i.failback_step])).toEqual([
      ['noop-dns', 'unchanged', undefined],
      ['tell-lb', 'manual', 'manual-tell-lb'],
      ['switch-dns', 'revert', 'revert-switch-dns'],
      ['switch-lb', 'revert', 'revert-switch-lb'],
    ]);
    expect(failback.steps.map((s) => [s.id, s.uses, s.needs, s.execution])).toEqual([
      ['manual-tell-lb', 'approval', [], 'run'],
      ['revert-switch-dns', 'dns.switch', ['manual-tell-lb'], 'run'],
      ['revert-switch-lb', 'routing.switch', ['revert-switch-dns'], 'run'],
    ]);
    const [manual, dns, lb] = failback.steps;
    expect(manual!.with).toMatchObject({ timeout: '4h', on_timeout: 'reject' });
    expect(String(manual!.with.message)).toContain('undo "tell-lb" (http.request) by hand');
    // Secrets stay references: the activity resolves them on the worker.
    // The guard names the TTL the run set too: a record whose TTL changed since is left alone.
    expect(dns!.with).toEqual({ ...dnsWith('orders.example.org.', '10.0.0.1'), ttl: 300, expect_current: { values: ['10.0.1.1'], ttl: 60 } });
    expect(lb!.with).toEqual({
      ...lbWith,
      haproxy: { ...lbWith.haproxy, servers: haproxyState('ready', 'maint') },
      expect_current: haproxyState('maint', 'ready'),
    });
    // The site, retry and timeouts of the original step carry over.
    expect(lb!.site).toBe('dr');
    expect(lb!.retry).toEqual(plan.steps.find((s) => s.id === 'switch-lb')!.retry);
    expect(failback).toMatchObject({
      name: 'orders-failover-failback',
      mode: 'run',
      secrets: plan.secrets,
      sites: ['primary', 'dr'],
      labels: { failback_of: 'orders-failover-run-1' },
    });
    expect(failback.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('--force drops the guards', () => {
    const { plan: failback } = buildFailback(record, { mode: 'run', force: true });
    expect(failback.steps.filter((s) => s.uses !== 'approval').every((s) => !('expect_current' in s.with))).toBe(true);
  });

  it('as a drill: reverts become preflights, manual work is logged instead of awaited', () => {
    const { plan: failback } = buildFailback(record, { mode: 'drill' });
    expect(failback.steps.map((s) => [s.id, s.uses, s.execution])).toEqual([
      ['manual-tell-lb', 'log', 'run'],
      ['revert-switch-dns', 'dns.switch', 'simulate'],
      ['revert-switch-lb', 'routing.switch', 'simulate'],
    ]);
    expect(failback.steps[1]!.with.expect_current).toEqual({ values: ['10.0.1.1'], ttl: 60 });
  });

  it('lists what becomes of each change', () => {
    const text = describeFailback(buildFailback(record, { mode: 'run' }), record.workflowId);
    expect(text.split('\n')).toEqual([
      'orders-failover-run-1 changed, newest first:',
      '  noop-dns (dns.switch, 2026-01-01T00:00:14.000Z): unchanged — the step found its target already in place and changed nothing',
      '  tell-lb (http.request, 2026-01-01T00:00:12.000Z): manual → manual-tell-lb — http.request cannot revert; a person undoes it behind an approval',
      '  switch-dns (dns.switch, 2026-01-01T00:00:09.000Z): revert → revert-switch-dns — back to the recorded previous state, guarded by the state the run set',
      '  switch-lb (routing.switch, 2026-01-01T00:00:05.000Z): revert → revert-switch-lb — back to the recorded previous state, guarded by the state the run set',
    ]);
  });

  it('skips skipped and simulated steps; a record the run created is manual work', () => {
    const steps = status.steps.map((s) =>
      s.id === 'switch-lb'
        ? { ...s, status: 'skipped' as const, outputs: undefined }
        : s.id === 'switch-dns'
          ? { ...s, outputs: { ...s.outputs, previous: null } }
          : s.id === 'check'
            ? { ...s, status: 'failed' as const }
            : s,
    );
    const { items } = buildFailback({ ...record, status: { ...status, steps } }, { mode: 'run' });
    expect(items.map((i) => [i.step, i.action])).toEqual([
      ['noop-dns', 'unchanged'],
      ['tell-lb', 'manual'],
      ['switch-dns', 'manual'],
    ]);
    expect(items[2]!.detail).toContain('a record it created');
  });

  it('refuses a run still running, and a drill', () => {
    expect(() => buildFailback({ ...record, status: { ...status, state: 'running' } }, { mode: 'run' })).toThrow(FailbackError);
    expect(() => buildFailback({ ...record, plan: { ...plan, mode: 'drill' } }, { mode: 'run' })).toThrow('was a drill: it changed nothing');
  });

  it('a run that changed nothing gives an empty failback', () => {
    const quiet = { ...status, steps: status.steps.filter((s) => s.id === 'check' || s.id === 'noop-dns') };
    const failback = buildFailback({ ...record, status: quiet }, { mode: 'run' });
    expect(failback.plan.steps).toEqual([]);
    expect(describeFailback({ ...failback, items: [] }, 'r')).toBe('r made no production change: nothing to fail back');
  });
});

describe('failback of a run with child runbooks', () => {
  const CHILD = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: switch-dns}
spec:
  sites: [dr, edge]
  secrets: {pdns_key: {env: PDNS_KEY_DR}, lb_token: {env: LB_TOKEN}}
  steps:
    - id: switch-dns
      uses: dns.switch
      site: edge
      with: {provider: powerdns, zone: example.org., name: orders.example.org., type: A, values: ["10.0.1.1"], powerdns: {api_url: "http://127.0.0.1:8081", api_key: "\${{ secrets.pdns_key }}"}}
`;
  const PARENT = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: orders-failover}
spec:
  sites: [primary, dr]
  secrets: {pdns_key: {env: PDNS_KEY}}
  steps:
    - id: switch-lb
      uses: routing.switch
      with: {provider: haproxy, haproxy: {socket: "tcp://127.0.0.1:9999", backend: web, servers: {primary: {state: maint}, standby: {state: ready}}}}
    - {id: dns, uses: runbook, with: {path: dns.yaml}}
    - {id: after, uses: routing.switch, with: {provider: haproxy, haproxy: {socket: "tcp://127.0.0.1:9999", backend: api, servers: {primary: {state: maint}}}}}
`;
  const parent = compile(PARENT, { file: 'failover.yaml', load: (p) => (p === 'dns.yaml' ? { file: p, text: CHILD } : undefined) }).plan!;
  const child = Object.values(parent.children)[0]!;
  const lbOutputs = { provider: 'haproxy', previous: haproxyState('ready', 'maint'), current: haproxyState('maint', 'ready'), changed: true, simulated: false };
  const dnsOutputs = { previous: { values: ['10.0.0.1'], ttl: 300 }, current: { values: ['10.0.1.1'], ttl: 60 }, changed: true, simulated: false };
  // `after` switches another backend (api) than switch-lb (web): two resources, each reverted on its own.
  const afterWith = { provider: 'haproxy', haproxy: { socket: 'tcp://127.0.0.1:9999', backend: 'api', servers: { primary: { state: 'maint' } } } };
  const afterOutputs = {
    provider: 'haproxy',
    previous: { primary: { state: 'ready', weight: 1 } },
    current: { primary: { state: 'maint', weight: 1 } },
    changed: true,
    simulated: false,
  };
  const childRecord = {
    workflowId: 'run-2.dns',
    plan: child,
    inputs: { 'switch-dns': dnsWith('orders.example.org.', '10.0.1.1') },
    status: { ...status, runbook: child.name, plan_hash: child.hash, state: 'succeeded' as const, steps: [step('switch-dns', 'dns.switch', 6, dnsOutputs)] },
  };
  const parentRecord = (childState: 'succeeded' | 'failed', after = true) => ({
    workflowId: 'run-2',
    plan: parent,
    inputs: { 'switch-lb': lbWith, after: afterWith },
    children: { dns: childRecord },
    status: {
      ...status,
      state: childState,
      steps: [
        step('switch-lb', 'routing.switch', 3, lbOutputs),
        { ...step('dns', 'runbook', 7, {}), status: childState },
        ...(after ? [step('after', 'routing.switch', 9, afterOutputs)] : []),
      ],
    },
  });

  it("reverts the child's changes in time order with the run's, under the child step's name", () => {
    const { plan: failback, items } = buildFailback(parentRecord('succeeded'), { mode: 'run' });
    expect(items.map((i) => [i.step, i.action, i.failback_step])).toEqual([
      ['after', 'revert', 'revert-after'],
      ['dns.switch-dns', 'revert', 'revert-dns.switch-dns'],
      ['switch-lb', 'revert', 'revert-switch-lb'],
    ]);
    expect(failback.steps.map((s) => [s.id, s.uses, s.needs, s.site])).toEqual([
      ['revert-after', 'routing.switch', [], undefined],
      ['revert-dns.switch-dns', 'dns.switch', ['revert-after'], 'edge'],
      ['revert-switch-lb', 'routing.switch', ['revert-dns.switch-dns'], undefined],
    ]);
    // The child declared pdns_key differently from the run: its revert reads the child's secret, renamed.
    expect(failback.secrets).toEqual({
      pdns_key: { env: 'PDNS_KEY' },
      'dns.pdns_key': { env: 'PDNS_KEY_DR', hosts: ['127.0.0.1'] },
      lb_token: { env: 'LB_TOKEN' },
    });
    expect(failback.steps[1]!.with).toMatchObject({ values: ['10.0.0.1'], powerdns: { api_key: { $secret: 'dns.pdns_key' } } });
    expect(failback.sites).toEqual(['primary', 'dr', 'edge']);
  });

  it("a child that failed still had its succeeded changes reverted; without the child's record there is nothing of it to revert", () => {
    const failed = buildFailback(parentRecord('failed', false), { mode: 'run' });
    expect(failed.items.map((i) => i.step)).toEqual(['dns.switch-dns', 'switch-lb']);
    const { children: _children, ...unread } = parentRecord('succeeded');
    expect(buildFailback(unread, { mode: 'run' }).items.map((i) => i.step)).toEqual(['after', 'switch-lb']);
  });
});

describe('failback of steps that failed or were cancelled after they may have changed something', () => {
  const FAILOVER = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: orders-failover}
spec:
  secrets: {pdns_key: {env: PDNS_KEY}, kube: {env: KUBECONFIG_DR}, pg: {env: PG_URL}}
  steps:
    - id: switch-dns
      uses: dns.switch
      with: {provider: powerdns, zone: example.org., name: orders.example.org., type: A, values: ["10.0.1.1"], powerdns: {api_url: "http://127.0.0.1:8081", api_key: "\${{ secrets.pdns_key }}"}}
    - id: scale-up
      uses: k8s.scale
      with: {cluster: {kubeconfig: "\${{ secrets.kube }}"}, namespace: orders, workloads: [deployment/web], replicas: 3}
    - id: guarded-dns
      uses: dns.switch
      with: {provider: powerdns, zone: example.org., name: api.example.org., type: A, values: ["10.0.1.2"], powerdns: {api_url: "http://127.0.0.1:8081", api_key: "\${{ secrets.pdns_key }}"}}
    - id: restore-db
      uses: postgres.restore
      with: {restore_point: {service: orders-pg, latest: verified}, target: "\${{ secrets.pg }}", database: orders}
    - id: warm-cache
      uses: redis.restore
      with: {restore_point: sess-20260101, mode: place, path: /var/lib/redis/dump.rdb}
    - id: check-cache
      uses: redis.restore
      with: {restore_point: sess-20260101}
`;
  const failover = compile(FAILOVER, { file: 'failover.yaml' }).plan!;
  const ended = (id: string, uses: string, second: number, how: 'failed' | 'cancelled', reason: string): StepState => ({
    ...step(id, uses, second, {}),
    outputs: undefined,
    status: how,
    reason,
  });
  const kube = { kubeconfig: { $secret: 'kube' }, in_cluster: false };
  const scaleWith = { cluster: kube, namespace: 'orders', workloads: ['deployment/web'], replicas: 3 };
  const failedRecord = (partial: Record<string, Record<string, unknown>>) => ({
    workflowId: 'run-3',
    plan: failover,
    inputs: {
      'switch-dns': dnsWith('orders.example.org.', '10.0.1.1'),
      'scale-up': scaleWith,
      'guarded-dns': dnsWith('api.example.org.', '10.0.1.2'),
      'restore-db': { restore_point: { service: 'orders-pg', latest: 'verified' }, target: { $secret: 'pg' }, database: 'orders' },
      'warm-cache': { restore_point: 'sess-20260101', mode: 'place', path: '/var/lib/redis/dump.rdb' },
      'check-cache': { restore_point: 'sess-20260101' },
    },
    partial,
    status: {
      ...status,
      runbook: failover.name,
      plan_hash: failover.hash,
      state: 'failed' as const,
      steps: [
        ended('switch-dns', 'dns.switch', 4, 'failed', 'dns: the authoritative server did not answer the change within 60s'),
        ended('scale-up', 'k8s.scale', 6, 'cancelled', 'cancelled'),
        ended('guarded-dns', 'dns.switch', 7, 'failed', 'dns: conflict'),
        step('restore-db', 'postgres.restore', 9, {
          restore_point_id: 'orders-pg-20260101',
          service: 'orders-pg',
          restore_point_age_ms: 1,
          database: 'orders',
          restored_bytes: 10,
        }),
        step('warm-cache', 'redis.restore', 10, {
          restore_point_id: 'sess-20260101',
          service: 'sess',
          restore_point_age_ms: 1,
          mode: 'place',
          keys: null,
          path: '/var/lib/redis/dump.rdb',
        }),
        step('check-cache', 'redis.restore', 11, {
          restore_point_id: 'sess-20260101',
          service: 'sess',
          restore_point_age_ms: 1,
          mode: 'scratch',
          keys: 3,
          path: null,
        }),
      ],
    },
  });
  const recorded = {
    'switch-dns': { previous: { values: ['10.0.0.1'], ttl: 300 }, target: { values: ['10.0.1.1'], ttl: 60 } },
    'guarded-dns': { previous: { values: ['10.0.0.2'], ttl: 300 }, changed: false },
  };

  it('a dns.switch that failed after its write is reverted only if the record still holds what it was setting', () => {
    const { plan: failback, items } = buildFailback(failedRecord(recorded), { mode: 'run' });
    const dns = failback.steps.find((s) => s.id === 'revert-switch-dns')!;
    // The record back to what the step found, guarded by the values and TTL it was writing: at the old
    // values already, dns.switch changes nothing; at anything else, the guard refuses.
    expect(dns.with).toEqual({ ...dnsWith('orders.example.org.', '10.0.0.1'), ttl: 300, expect_current: { values: ['10.0.1.1'], ttl: 60 } });
    expect(dns.execution).toBe('run');
    const item = items.find((i) => i.step === 'switch-dns')!;
    expect(item).toMatchObject({ action: 'revert', failback_step: 'revert-switch-dns' });
    expect(item.detail).toContain('failed after it may have changed');
    // A step that failed before it wrote anything (its guard refused) changed nothing.
    expect(items.find((i) => i.step === 'guarded-dns')).toMatchObject({ action: 'unchanged', detail: 'it failed before it changed anything' });
  });

  it('a failed or cancelled step that recorded nothing is manual work, saying what it may have changed', () => {
    const { plan: failback, items } = buildFailback(failedRecord({}), { mode: 'run' });
    expect(items.find((i) => i.step === 'scale-up')).toMatchObject({ action: 'manual', failback_step: 'manual-scale-up' });
    expect(items.find((i) => i.step === 'switch-dns')).toMatchObject({ action: 'manual', failback_step: 'manual-switch-dns' });
    const manual = failback.steps.find((s) => s.id === 'manual-scale-up')!;
    expect(manual.uses).toBe('approval');
    expect(String(manual.with.message)).toContain('step "scale-up" (k8s.scale) was cancelled after it may have changed');
    expect(String(manual.with.message)).toContain('"namespace":"orders"');
    expect(String(manual.with.message)).toContain('check it');
    // Secrets stay references in the message: the kubeconfig is named, never read.
    expect(String(manual.with.message)).toContain('{"$secret":"kube"}');
    expect(String(failback.steps.find((s) => s.id === 'manual-switch-dns')!.with.message)).toContain(
      'step "switch-dns" (dns.switch) failed after it may have changed',
    );
  });

  it('restores over a live target are manual work; a scratch restore is not listed', () => {
    const { plan: failback, items } = buildFailback(failedRecord(recorded), { mode: 'run' });
    expect(items.map((i) => [i.step, i.action])).toEqual([
      ['warm-cache', 'manual'],
      ['restore-db', 'manual'],
      ['guarded-dns', 'unchanged'],
      ['scale-up', 'manual'],
      ['switch-dns', 'revert'],
    ]);
    const db = failback.steps.find((s) => s.id === 'manual-restore-db')!;
    expect(String(db.with.message)).toContain('restored orders-pg-20260101 into production target database orders (target {"$secret":"pg"})');
    expect(String(db.with.message)).toContain('cannot be undone automatically');
    const cache = failback.steps.find((s) => s.id === 'manual-warm-cache')!;
    expect(String(cache.with.message)).toContain('restored sess-20260101 into production target dump file /var/lib/redis/dump.rdb');
    expect(items.find((i) => i.step === 'restore-db')!.detail).toContain('cannot be undone automatically');
  });

  it('in a drill the failed step is reverted by a preflight, and restores are logged', () => {
    const { plan: failback } = buildFailback(failedRecord(recorded), { mode: 'drill' });
    expect(failback.steps.map((s) => [s.id, s.uses, s.execution])).toEqual([
      ['manual-warm-cache', 'log', 'run'],
      ['manual-restore-db', 'log', 'run'],
      ['manual-scale-up', 'log', 'run'],
      ['revert-switch-dns', 'dns.switch', 'simulate'],
    ]);
  });
});

describe('failback by resource: the net change of several steps on one resource, reverted once', () => {
  const weights = [100, 75, 50, 25, 0];
  const shiftWith = (i: number) => ({
    provider: 'haproxy',
    haproxy: { socket: 'tcp://127.0.0.1:9999', backend: 'web', servers: { primary: { weight: weights[i]! }, standby: { weight: 100 - weights[i]! } } },
  });
  const split = (i: number) => ({ primary: { state: 'ready', weight: weights[i]! }, standby: { state: 'ready', weight: 100 - weights[i]! } });
  const dnsTo = (value: string) => ({ ...dnsWith('orders.example.org.', value) });
  const SHIFTS = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: orders-shift}
spec:
  secrets: {pdns_key: {env: PDNS_KEY}}
  steps:
${[1, 2, 3, 4]
  .map(
    (i) =>
      `    - {id: shift-${i}, uses: routing.switch, with: {provider: haproxy, haproxy: {socket: "tcp://127.0.0.1:9999", backend: web, servers: {primary: {weight: ${weights[i]}}, standby: {weight: ${100 - weights[i]!}}}}}}`,
  )
  .join('\n')}
    - {id: drain-primary, uses: routing.switch, with: {provider: haproxy, haproxy: {socket: "tcp://127.0.0.1:9999", backend: web, servers: {primary: {state: drain}}}}}
    - id: dns-away
      uses: dns.switch
      with: {provider: powerdns, zone: example.org., name: orders.example.org., type: A, values: ["10.0.1.1"], powerdns: {api_url: "http://127.0.0.1:8081", api_key: "\${{ secrets.pdns_key }}"}}
    - id: dns-back
      uses: dns.switch
      with: {provider: powerdns, zone: example.org., name: orders.example.org., type: A, values: ["10.0.0.1"], ttl: 300, powerdns: {api_url: "http://127.0.0.1:8081", api_key: "\${{ secrets.pdns_key }}"}}
    - {id: tell-lb, uses: http.request, with: {method: PUT, url: "http://lb/pools/orders"}}
`;
  const shifts = compile(SHIFTS, { file: 'shift.yaml' }).plan!;
  const haproxyOut = (previous: unknown, current: unknown) => ({ provider: 'haproxy', previous, current, changed: true, simulated: false });
  const dnsOut = (from: string, fromTtl: number, to: string, toTtl: number) => ({
    previous: { values: [from], ttl: fromTtl },
    current: { values: [to], ttl: toTtl },
    changed: true,
    simulated: false,
  });
  const drained = { primary: { state: 'drain', weight: 0 } };
  const shiftRecord = (extra: StepState[] = [], only?: string[]) => {
    const steps = [
      ...[1, 2, 3, 4].map((i) => step(`shift-${i}`, 'routing.switch', i * 2, haproxyOut(split(i - 1), split(i)))),
      // Names only the primary: its state joins the net entry by entry.
      step('drain-primary', 'routing.switch', 10, haproxyOut({ primary: split(4).primary }, drained)),
      step('dns-away', 'dns.switch', 12, dnsOut('10.0.0.1', 300, '10.0.1.1', 60)),
      step('dns-back', 'dns.switch', 14, dnsOut('10.0.1.1', 60, '10.0.0.1', 300)),
      step('tell-lb', 'http.request', 16, { status: 200 }),
      ...extra,
    ].filter((s) => !only || only.includes(s.id));
    return {
      workflowId: 'shift-run-1',
      plan: shifts,
      inputs: {
        ...Object.fromEntries([1, 2, 3, 4].map((i) => [`shift-${i}`, shiftWith(i)])),
        'drain-primary': { provider: 'haproxy', haproxy: { socket: 'tcp://127.0.0.1:9999', backend: 'web', servers: { primary: { state: 'drain' } } } },
        'dns-away': dnsTo('10.0.1.1'),
        'dns-back': { ...dnsTo('10.0.0.1'), ttl: 300 },
        'tell-lb': { method: 'PUT', url: 'http://lb/pools/orders' },
      },
      status: { ...status, runbook: shifts.name, plan_hash: shifts.hash, steps },
    };
  };

  it('five switches on one HAProxy backend become one revert to the state before the first, guarded by the state after the last', () => {
    const { plan: failback, items } = buildFailback(shiftRecord(), { mode: 'run' });
    const lb = items.find((i) => i.resource === 'haproxy tcp://127.0.0.1:9999 web')!;
    expect(lb).toMatchObject({
      step: 'drain-primary',
      action: 'revert',
      failback_step: 'revert-drain-primary',
      steps: ['shift-1', 'shift-2', 'shift-3', 'shift-4', 'drain-primary'],
    });
    const reverts = failback.steps.filter((s) => s.uses === 'routing.switch');
    expect(reverts).toHaveLength(1);
    // Each server back to what the run found it at (primary 100, standby 0), guarded by what the run left (primary drained, standby 100).
    expect(reverts[0]!.with).toEqual({
      provider: 'haproxy',
      haproxy: { socket: 'tcp://127.0.0.1:9999', backend: 'web', servers: split(0) },
      expect_current: { primary: { state: 'drain', weight: 0 }, standby: { state: 'ready', weight: 100 } },
    });
    expect(reverts[0]!.name).toBe('revert shift-1 + shift-2 + shift-3 + shift-4 + drain-primary (routing.switch, their net change)');
    expect(lb.detail).toContain('back to the state before "shift-1" in one step, guarded by the state "drain-primary" left');
  });

  it('a switch and its return cancel out: no step, and the item says why; keyless changes keep their own handling', () => {
    const { plan: failback, items } = buildFailback(shiftRecord(), { mode: 'run' });
    expect(items.map((i) => [i.step, i.action])).toEqual([
      ['tell-lb', 'manual'],
      ['dns-back', 'restored'],
      ['drain-primary', 'revert'],
    ]);
    const dns = items.find((i) => i.step === 'dns-back')!;
    expect(dns).toMatchObject({ resource: 'powerdns example.org. orders.example.org. A', steps: ['dns-away', 'dns-back'] });
    expect(dns.failback_step).toBeUndefined();
    expect(dns.detail).toBe(
      '"dns-away", "dns-back" left powerdns example.org. orders.example.org. A as the run found it ({"values":["10.0.0.1"],"ttl":300}): their changes cancel out, nothing to revert',
    );
    expect(failback.steps.map((s) => s.id)).toEqual(['manual-tell-lb', 'revert-drain-primary']);
  });

  it('a run that already failed back is an empty plan that says why', () => {
    // The run's own last steps walked traffic back: 0/100 → 100/0, primary ready again.
    const back = [step('shift-back', 'routing.switch', 18, haproxyOut({ ...split(4), primary: drained.primary }, split(0)))];
    const record = shiftRecord(back, ['shift-1', 'shift-2', 'shift-3', 'shift-4', 'drain-primary', 'dns-away', 'dns-back', 'shift-back']);
    const plan = { ...record.plan, steps: [...record.plan.steps, { ...record.plan.steps[0]!, id: 'shift-back', line: 99 }] };
    const inputs = { ...record.inputs, 'shift-back': { ...shiftWith(0), haproxy: { ...shiftWith(0).haproxy, servers: split(0) } } };
    const failback = buildFailback({ ...record, plan, inputs }, { mode: 'run' });
    expect(failback.plan.steps).toEqual([]);
    expect(failback.items.map((i) => [i.step, i.action, i.steps?.length])).toEqual([
      ['shift-back', 'restored', 6],
      ['dns-back', 'restored', 2],
    ]);
    const text = describeFailback(failback, 'shift-run-1').split('\n');
    expect(text[0]).toBe('shift-run-1 changed, newest first:');
    expect(text[1]).toMatch(
      /^ {2}shift-1 \+ shift-2 \+ shift-3 \+ shift-4 \+ drain-primary \+ shift-back \(routing\.switch, net per resource, .*\): restored — /,
    );
    expect(text.at(-1)).toBe('nothing to fail back: every resource shift-run-1 changed is back where it found it, or unchanged');
  });

  it('a change that failed keeps its own revert, before the net of the succeeded ones', () => {
    const failed: StepState = { ...step('shift-back', 'routing.switch', 18, {}), status: 'failed', outputs: undefined, reason: 'routing: check_failed' };
    const record = shiftRecord([failed], ['shift-1', 'shift-2', 'shift-3', 'shift-4', 'shift-back']);
    const plan = { ...record.plan, steps: [...record.plan.steps, { ...record.plan.steps[0]!, id: 'shift-back', line: 99 }] };
    const inputs = { ...record.inputs, 'shift-back': shiftWith(0) };
    const partial = { 'shift-back': { previous: split(4), target: split(0) } };
    const { plan: failback, items } = buildFailback({ ...record, plan, inputs, partial }, { mode: 'run' });
    expect(items.map((i) => [i.step, i.action, i.failback_step])).toEqual([
      ['shift-back', 'revert', 'revert-shift-back'],
      ['shift-4', 'revert', 'revert-shift-4'],
    ]);
    expect(failback.steps[1]!.with).toMatchObject({ haproxy: { servers: split(0) }, expect_current: split(4) });
    expect(failback.steps[1]!.needs).toEqual(['revert-shift-back']);
  });

  it('as a drill, the net revert is one preflight', () => {
    const { plan: failback } = buildFailback(shiftRecord(), { mode: 'drill' });
    expect(failback.steps.map((s) => [s.id, s.uses, s.execution])).toEqual([
      ['manual-tell-lb', 'log', 'run'],
      ['revert-drain-primary', 'routing.switch', 'simulate'],
    ]);
  });
});

describe('failback of changes with nothing to undo', () => {
  const text = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: redeploy}
spec:
  secrets: {kubeconfig: {env: KUBECONFIG_TEXT}}
  steps:
    - id: restart
      uses: k8s.rollout
      with: {cluster: {kubeconfig: "\${{ secrets.kubeconfig }}"}, namespace: inference, kind: Deployment, name: model, restart: true}
`;
  const redeploy = compile(text, { file: 'redeploy.yaml' }).plan!;
  const facts = (at: string) => ({ images: { model: 'model:1' }, restarted_at: at, generation: 2 });

  it('a restart that changed the pods is listed as unchanged, with no approval for a person', () => {
    const record = {
      workflowId: 'redeploy-1',
      plan: redeploy,
      inputs: { restart: { cluster: { kubeconfig: { $secret: 'kubeconfig' } }, namespace: 'inference', kind: 'Deployment', name: 'model', restart: true } },
      status: {
        runbook: redeploy.name,
        plan_hash: redeploy.hash,
        mode: 'run' as const,
        state: 'succeeded' as const,
        started_at: at(0),
        ended_at: at(5),
        steps: [step('restart', 'k8s.rollout', 4, { previous: facts('a'), current: facts('b'), changed: true, simulated: false })],
      },
    };
    const failback = buildFailback(record, { mode: 'run' });
    expect(failback.plan.steps).toEqual([]);
    expect(failback.items).toEqual([
      expect.objectContaining({ step: 'restart', action: 'unchanged', detail: expect.stringMatching(/a restart replaced the pods/) }),
    ]);
  });
});
