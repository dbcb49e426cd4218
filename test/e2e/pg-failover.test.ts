// runbooks/pg-failover.yaml on a `rebound worker` against two PostgreSQL 15 clusters streaming on loopback and PowerDNS: a drill that changes nothing, the failover (lag measured, approved, the standby promoted and writable, the DNS name moved, the RPO the lag at promotion), and its generated failback.
import { promises as dns } from 'node:dns';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { finalStatus } from '../../client/runs.ts';
import { buildReport } from '../../client/report/build.ts';
import { compileFile } from '../../compiler/index.ts';
import { startPostgres, type PostgresServer } from '../../stack/postgres.ts';
import { REPLICATION_SETTINGS, startStandby } from '../../stack/postgres-standby.ts';
import { startPowerDns, type PowerDnsServer } from '../../stack/powerdns.ts';
import { voteAs } from '../helpers/approvals.ts';
import { rebound } from '../helpers/cli.ts';
import { connect, start, stepOf, uniqueSite, waitFor } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

let primary: PostgresServer;
let standby: PostgresServer;
let pdns: PowerDnsServer;
let worker: WorkerProcess;
let client: Client;
const site = uniqueSite('pgfailover');
const RECORD = 'orders-db.example.org.';
let failedOver = '';

beforeAll(async () => {
  [primary, pdns] = await Promise.all([startPostgres({ settings: { ...REPLICATION_SETTINGS } }), startPowerDns()]);
  standby = await startStandby(primary, { name: 'dr' });
  await pdns.api('POST', '/zones', { name: 'example.org.', kind: 'Native', nameservers: ['ns1.example.org.'] });
  await pdns.api('PATCH', '/zones/example.org.', {
    rrsets: [{ name: RECORD, type: 'A', ttl: 300, changetype: 'REPLACE', records: [{ content: '10.0.0.1', disabled: false }] }],
  });
  await primary.query('create table orders (id int primary key)');
  await primary.query('insert into orders select generate_series(1, 1000)');
  worker = await startWorkerProcess({
    address: inject('temporalAddress'),
    site,
    bundle: inject('workflowBundle'),
    startTimeoutMs: 120_000,
    env: { DR_PG_URL: standby.url(), PDNS_API_KEY: pdns.apiKey },
  });
  client = await connect(inject('temporalAddress'));
}, 600_000);

afterAll(async () => {
  await worker?.kill();
  await standby?.destroy();
  await primary?.destroy();
  await pdns?.stop();
});

const params = () => ({
  pdns_api_url: pdns.apiUrl,
  pdns_resolver: `127.0.0.1:${pdns.dnsPort}`,
  standby_ip: '10.0.0.2',
  primary_data_dir: primary.dataDir,
  primary_port: primary.port,
  primary_site: site,
});

async function answer(): Promise<string[]> {
  const resolver = new dns.Resolver({ timeout: 2_000, tries: 1 });
  resolver.setServers([`127.0.0.1:${pdns.dnsPort}`]);
  return resolver.resolve4(RECORD);
}

async function approvedRun(mode: 'run' | 'drill') {
  const { plan, errors } = compileFile('runbooks/pg-failover.yaml', mode);
  expect(errors).toEqual([]);
  const handle = await start(client, plan!, site, params());
  await waitFor(handle, (s) => stepOf(s, 'approve').status === 'running', 120_000);
  await voteAs(client, handle.workflowId, 'approve', 'oncall');
  return { plan: plan!, status: await finalStatus(handle), id: handle.workflowId };
}

describe('pg-failover.yaml', () => {
  it('a drill measures the lag and preflights the promotion and the DNS change, changing nothing', { timeout: 600_000 }, async () => {
    const { status } = await approvedRun('drill');
    expect(status.state, status.error).toBe('succeeded');
    expect(stepOf(status, 'lag').outputs).toMatchObject({ role: 'standby', rpo_method: 'replica lag' });
    expect(stepOf(status, 'promote').outputs).toMatchObject({ simulated: true, changed: true });
    expect((await standby.query('select pg_is_in_recovery() as r'))[0]!.r).toBe(true);
    expect(await answer()).toEqual(['10.0.0.1']);
  });

  it('fails over: the standby promoted and writable, the name moved, the RPO the lag at promotion', { timeout: 600_000 }, async () => {
    const { plan, status, id } = await approvedRun('run');
    expect(status.state, status.error).toBe('succeeded');
    const promoted = stepOf(status, 'promote').outputs!;
    expect(promoted).toMatchObject({ changed: true, simulated: false, rpo_method: 'replica lag at promotion', current: { role: 'primary' } });
    expect((await standby.query('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);
    await standby.query('insert into orders values (1001)');
    expect((await standby.query<{ n: number }>('select count(*)::int as n from orders'))[0]!.n).toBe(1001);
    expect(await answer()).toEqual(['10.0.0.2']);
    const report = buildReport({ workflowId: id, plan, status });
    expect(report.rpo.services).toEqual([
      {
        service: 'orders-pg',
        age_ms: Math.max(stepOf(status, 'lag').outputs!.rpo_ms as number, promoted.rpo_ms as number),
        steps: ['lag', 'promote'],
        methods: ['replica lag', 'replica lag at promotion'],
      },
    ]);
    expect(report.rpo.met).toBe(true);
    failedOver = id;
  });

  it('`rebound failback` moves the name back and reprotects the old primary as a standby of the promoted one', { timeout: 600_000 }, async () => {
    const back = await rebound(['failback', failedOver, '--site', site, '--id', `${failedOver}-back`], { TEMPORAL_ADDRESS: inject('temporalAddress') });
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/revert-promote\s+postgres\.reprotect\s+main\s+succeeded/);
    expect(await answer()).toEqual(['10.0.0.1']);
    expect((await primary.query('select pg_is_in_recovery() as r'))[0]!.r).toBe(true);
    await standby.query('insert into orders values (1002)');
    await expect.poll(async () => (await primary.query<{ n: number }>('select count(*)::int as n from orders'))[0]!.n, { timeout: 60_000 }).toBe(1002);
  });
});
