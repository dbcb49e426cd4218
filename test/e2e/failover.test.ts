// dr-failover.yaml end to end against real PowerDNS, HAProxy, Temporal and `rebound worker` processes: failover, failback, conflicts, drills, sites, a crash mid-switch.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { finalStatus } from '../../client/runs.ts';
import type { Mode } from '../../contract/plan.ts';
import { PRIMARY_IP, STANDBY_IP, startFailoverSite, type FailoverSite, type SiteState } from '../../stack/failover-site.ts';
import { rebound } from '../helpers/cli.ts';
import { startDnsRelay } from '../helpers/dns-relay.ts';
import { connect, planOf, start, stepOf, uniqueSite, waitForHeartbeat } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const address = inject('temporalAddress');
const bundle = inject('workflowBundle');
const queue = uniqueSite('failover');
const workers: WorkerProcess[] = [];
let site: FailoverSite;
let client: Client;

const runbook = readFileSync(new URL('../../runbooks/dr-failover.yaml', import.meta.url), 'utf8');
const cli = (args: string[]) => rebound(args, { TEMPORAL_ADDRESS: address });
const worker = async (name: string) => {
  const started = await startWorkerProcess({ address, site: name, bundle, env: { PDNS_API_KEY: site.pdns.apiKey } });
  workers.push(started);
  return started;
};

const FAILED_OVER: SiteState = {
  dns: { values: [STANDBY_IP], ttl: 60 },
  haproxy: { primary: { state: 'maint', weight: 1 }, standby: { state: 'ready', weight: 1 } },
};

beforeAll(async () => {
  site = await startFailoverSite({ log: (line) => console.log(`[failover test] ${line}`) });
  client = await connect(address);
  await worker(queue);
}, 600_000); // the first run installs pdns-server and haproxy from Debian

afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await site?.stop();
});

/** Runs dr-failover.yaml with the primary down; returns its workflow id once it has finished. */
async function failover(mode: Mode): Promise<string> {
  site.setPrimaryHealthy(false);
  const handle = await start(client, planOf(runbook, { mode }), queue, { ...site.params, approval_timeout: '1s' });
  const status = await finalStatus(handle);
  expect(status.error).toBeUndefined();
  expect(status.state).toBe('succeeded');
  site.setPrimaryHealthy(true);
  return handle.workflowId;
}

describe('failover and failback on PowerDNS + HAProxy', () => {
  it('fails over for real, and the generated failback restores DNS and HAProxy exactly', { timeout: 240_000 }, async () => {
    const before = await site.state();
    expect(before.dns).toEqual({ values: [PRIMARY_IP], ttl: 300 });
    const run = await failover('run');
    expect(await site.state()).toEqual(FAILED_OVER);
    expect(await site.byName()).toBe('standby');
    expect(await site.throughProxy()).toBe('standby');

    const back = await cli(['failback', run, '--site', queue, '--id', `${run}-back`]);
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
    expect(back.stdout).toContain('switch-dns (dns.switch');
    expect(back.stdout).toMatch(/revert-switch-dns\s+dns\.switch\s+main\s+succeeded/);
    expect(await site.state()).toEqual(before);
    expect(await site.byName()).toBe('primary');
    expect(await site.throughProxy()).toBe('primary');

    const report = JSON.parse((await cli(['report', run, '--format', 'json'])).stdout);
    expect(report.changes.map((c: { step: string; changed: boolean; simulated: boolean }) => [c.step, c.changed, c.simulated])).toEqual([
      ['switch-traffic', true, false],
      ['switch-dns', true, false],
    ]);
    expect(report.rto).toMatchObject({ objective_ms: 900_000, met: true });
    expect(report.approvals[0]).toMatchObject({ step: 'approve', decision: 'approved', by: 'timeout', timed_out: true });
  });

  it('a failback after someone else changed the record stops with a conflict; --force overrides it', { timeout: 240_000 }, async () => {
    const before = await site.state();
    const run = await failover('run');
    await site.setRecord(['127.0.0.9'], 120);

    const plan = await cli(['plan', '--failback', run]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('switch-dns (dns.switch');
    expect(plan.stdout).toMatch(/revert-switch-dns\s+dns\.switch\s+production\s+run\s+at once/);

    const refused = await cli(['failback', run, '--site', queue, '--id', `${run}-conflict`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('holds [127.0.0.9] (ttl 120), but expect_current is [127.0.0.2] (ttl 60)');
    expect(refused.stdout).toMatch(/revert-switch-traffic\s+routing\.switch\s+main\s+skipped/);
    // Nothing was overwritten: the other change stands, and HAProxy still sends to the standby.
    expect(await site.state()).toEqual({ ...FAILED_OVER, dns: { values: ['127.0.0.9'], ttl: 120 } });

    const forced = await cli(['failback', run, '--force', '--site', queue, '--id', `${run}-forced`]);
    expect(forced.code).toBe(0);
    expect(await site.state()).toEqual(before);
  });

  it("a failback undoes what a child runbook changed: dr-failover.yaml run from a parent's `uses: runbook` step", { timeout: 240_000 }, async () => {
    const before = await site.state();
    const parent = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: orders-dr}
spec:
  steps:
    - {id: failover, uses: runbook, with: {path: dr-failover.yaml, params: ${JSON.stringify({ ...site.params, approval_timeout: '1s' })}}}
`;
    site.setPrimaryHealthy(false);
    const handle = await start(client, planOf(parent, { files: { 'dr-failover.yaml': runbook } }), queue);
    expect((await finalStatus(handle)).state).toBe('succeeded');
    site.setPrimaryHealthy(true);
    expect(await site.state()).toEqual(FAILED_OVER);

    const back = await cli(['failback', handle.workflowId, '--site', queue, '--id', `${handle.workflowId}-back`]);
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
    expect(back.stdout).toContain('failover.switch-dns (dns.switch');
    expect(back.stdout).toMatch(/revert-failover\.switch-traffic\s+routing\.switch\s+main\s+succeeded/);
    expect(await site.state()).toEqual(before);
    expect(await site.throughProxy()).toBe('primary');
  });

  it('a drill changes nothing, and its report lists the changes a run would make with their preflights', { timeout: 240_000 }, async () => {
    const before = await site.state();
    const run = await failover('drill');
    expect(await site.state()).toEqual(before);
    expect(await site.throughProxy()).toBe('primary');

    const report = JSON.parse((await cli(['report', run, '--format', 'json'])).stdout);
    expect(report.run.mode).toBe('drill');
    const dns = report.changes.find((c: { step: string }) => c.step === 'switch-dns');
    expect(dns).toMatchObject({ simulated: true, changed: true, status: 'succeeded' });
    expect(dns.preflight).toContain(`would set orders.example.org. A from [${PRIMARY_IP}] (ttl 300) to [${STANDBY_IP}] (ttl 60)`);
    const lb = report.changes.find((c: { step: string }) => c.step === 'switch-traffic');
    expect(lb).toMatchObject({ simulated: true, previous: before.haproxy, current: FAILED_OVER.haproxy });
    const md = await cli(['report', run]);
    expect(md.stdout).toContain('## Changes a run would make (drill preflights)');
    expect(md.stdout).toContain('<svg');
    // A drill changed nothing, so there is nothing to fail back.
    const back = await cli(['failback', run]);
    expect(back.code).toBe(2);
    expect(back.stderr).toContain('was a drill');
  });
});

describe('per-site steps', () => {
  it('routes steps to the workers of their site, records which worker ran each, and fails a site nobody serves', { timeout: 180_000 }, async () => {
    const [primary, dr, nowhere] = [uniqueSite('primary'), uniqueSite('dr'), uniqueSite('nowhere')];
    const [p, d] = await Promise.all([worker(primary), worker(dr)]);
    const plan = planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: sites}\nspec:
  sites: [${primary}, ${dr}, ${nowhere}]
  site: ${primary}
  steps:
    - {id: here, uses: log, with: {message: primary}}
    - {id: there, uses: log, site: ${dr}, with: {message: dr}}
    - {id: lost, uses: log, site: ${nowhere}, site_timeout: 2s, continue_on_error: true, with: {message: never}}
`);
    const handle = await start(client, plan, queue);
    const status = await finalStatus(handle);
    expect(status.state).toBe('succeeded');
    expect(stepOf(status, 'here')).toMatchObject({ worker: `${p.child.pid}@${hostname()}`, task_queue: `rebound-${primary}` });
    expect(stepOf(status, 'there')).toMatchObject({ worker: `${d.child.pid}@${hostname()}`, task_queue: `rebound-${dr}` });
    expect(stepOf(status, 'lost')).toMatchObject({ status: 'failed' });
    expect(stepOf(status, 'lost').reason).toMatch(new RegExp(`^no worker for site ${nowhere}: nothing polled task queue rebound-${nowhere} within 2s`));
    const shown = await cli(['status', handle.workflowId]);
    expect(shown.stdout).toContain('WORKER');
    expect(shown.stdout).toContain(`${d.child.pid}@${hostname()} (rebound-${dr})`);
  });
});

describe('a worker killed mid-switch', () => {
  it('SIGKILLed between the DNS change and its verification: no second change, the run completes', { timeout: 240_000 }, async () => {
    const relay = await startDnsRelay(site.pdns.dnsPort);
    const killQueue = uniqueSite('dnskill');
    const api = (method: string, body?: unknown) =>
      site.pdns.api<{ serial: number; rrsets: Array<{ name: string; records: Array<{ content: string }> }> } | undefined>(method, '/zones/example.org.', body);
    const record = async () => (await api('GET'))!.rrsets.find((r) => r.name === 'kill.example.org.')?.records.map((r) => r.content);
    await api('PATCH', {
      rrsets: [{ name: 'kill.example.org.', type: 'A', ttl: 300, changetype: 'REPLACE', records: [{ content: '10.0.0.1', disabled: false }] }],
    });
    const first = await worker(killQueue);
    const plan = planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: dnskill}\nspec:
  secrets: {pdns_key: {env: PDNS_API_KEY}}
  steps:
    - id: switch
      uses: dns.switch
      heartbeat_timeout: 4s
      retry: {max_attempts: 5, initial_interval: 200ms}
      with:
        provider: powerdns
        zone: example.org.
        name: kill.example.org.
        type: A
        values: [10.0.9.9]
        verify_timeout: 2m
        powerdns: {api_url: "${site.pdns.apiUrl}", api_key: "\${{ secrets.pdns_key }}", resolver: "${relay.address}"}
`);
    relay.hold(); // the change is made, but its verification cannot see it yet
    const handle = await start(client, plan, killQueue);
    const deadline = Date.now() + 60_000;
    while ((await record())?.[0] !== '10.0.9.9') {
      if (Date.now() > deadline) throw new Error('the change was never written');
      await new Promise((r) => setTimeout(r, 50));
    }
    // Heartbeats leave a worker throttled: the kill waits until the server holds the one that says what the record held before.
    await waitForHeartbeat(handle, (d) => (d as { switching?: { to?: { values?: string[] } } })?.switching?.to?.values?.[0] === '10.0.9.9');
    const serial = (await api('GET'))!.serial;
    await first.kill('SIGKILL');
    relay.release();
    await worker(killQueue);
    const status = await finalStatus(handle);
    await relay.close();
    expect(status.state).toBe('succeeded');
    const step = stepOf(status, 'switch');
    expect(step.attempt).toBeGreaterThanOrEqual(2);
    // The retry found its own change through the heartbeat: it verified it, wrote nothing, and still knows what was there before.
    expect(step.outputs).toMatchObject({ changed: true, previous: { values: ['10.0.0.1'], ttl: 300 }, current: { values: ['10.0.9.9'], ttl: 60 } });
    expect((await api('GET'))!.serial).toBe(serial);
    expect(await record()).toEqual(['10.0.9.9']);
  });
});

describe('failback of a dns.switch that failed after its write', () => {
  const api = (method: string, body?: unknown) =>
    site.pdns.api<{ rrsets: Array<{ name: string; ttl: number; records: Array<{ content: string }> }> } | undefined>(method, '/zones/example.org.', body);
  const setRecord = (name: string, value: string, ttl: number) =>
    api('PATCH', { rrsets: [{ name, type: 'A', ttl, changetype: 'REPLACE', records: [{ content: value, disabled: false }] }] });
  const recordOf = async (name: string) => {
    const rrset = (await api('GET'))!.rrsets.find((r) => r.name === name);
    return rrset ? { values: rrset.records.map((r) => r.content), ttl: rrset.ttl } : null;
  };
  /** Switches `name` to `to` while the relay holds every query, so its verification times out after the write: the step fails. */
  async function failedSwitch(name: string, to: string, relay: { address: string; hold(): void }): Promise<string> {
    const plan = planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: unverified}\nspec:
  secrets: {pdns_key: {env: PDNS_API_KEY}}
  steps:
    - id: switch
      uses: dns.switch
      retry: {max_attempts: 1}
      with:
        provider: powerdns
        zone: example.org.
        name: ${name}
        type: A
        values: [${to}]
        verify_timeout: 2s
        powerdns: {api_url: "${site.pdns.apiUrl}", api_key: "\${{ secrets.pdns_key }}", resolver: "${relay.address}"}
`);
    relay.hold();
    const handle = await start(client, plan, queue);
    const status = await finalStatus(handle);
    expect(status.state).toBe('failed');
    expect(stepOf(status, 'switch').reason).toContain(`${to}] (ttl 60) — no attempts left`);
    expect(await recordOf(name)).toEqual({ values: [to], ttl: 60 });
    return handle.workflowId;
  }

  it('reverts the record to what it held before the run; a record whose TTL changed since refuses the revert', { timeout: 240_000 }, async () => {
    const relay = await startDnsRelay(site.pdns.dnsPort);
    try {
      await setRecord('unverified.example.org.', '10.0.0.1', 300);
      const run = await failedSwitch('unverified.example.org.', '10.0.9.9', relay);
      relay.release();
      const plan = await cli(['plan', '--failback', run]);
      expect(plan.stdout).toContain('switch (dns.switch');
      expect(plan.stdout).toContain('revert → revert-switch — it failed after it may have changed');
      const back = await cli(['failback', run, '--site', queue, '--id', `${run}-back`]);
      expect(back.stderr).toBe('');
      expect(back.code).toBe(0);
      expect(back.stdout).toMatch(/revert-switch\s+dns\.switch\s+main\s+succeeded/);
      expect(await recordOf('unverified.example.org.')).toEqual({ values: ['10.0.0.1'], ttl: 300 });

      await setRecord('ttl.example.org.', '10.0.0.2', 300);
      const second = await failedSwitch('ttl.example.org.', '10.0.9.8', relay);
      relay.release();
      await setRecord('ttl.example.org.', '10.0.9.8', 900); // someone changed the TTL since
      const refused = await cli(['failback', second, '--site', queue, '--id', `${second}-back`]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('holds [10.0.9.8] (ttl 900), but expect_current is [10.0.9.8] (ttl 60); it changed since the plan was made');
      expect(await recordOf('ttl.example.org.')).toEqual({ values: ['10.0.9.8'], ttl: 900 });
    } finally {
      await relay.close();
    }
  });
});
