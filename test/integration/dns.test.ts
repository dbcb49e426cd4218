// dns.switch against a real PowerDNS authoritative server (HTTP API + DNS queries) and Route 53 as served by moto.
import { randomBytes } from 'node:crypto';
import { promises as dns } from 'node:dns';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsSwitchImpl } from '../../activities/dns/switch.ts';
import { stepRunner, type RunOptions } from '../helpers/activity.ts';
import { dnsSwitch } from '../../contract/actions/dns.ts';
import type { ActionInput } from '../../contract/run.ts';
import { startMoto, type MotoServer } from '../../stack/moto.ts';
import { freePort } from '../../stack/ports.ts';
import { startPowerDns, type PowerDnsServer } from '../../stack/powerdns.ts';
import { startTogether } from '../helpers/servers.ts';
import { failureOf } from '../helpers/failure.ts';

let pdns: PowerDnsServer;
let moto: MotoServer;
let r53: Route53Client;
let hostedZoneId = '';
const wrongKey = `wrong-${randomBytes(12).toString('hex')}`;

/** The part of PowerDNS's zone document the tests read. */
interface ZoneJson {
  serial: number;
  rrsets: Array<{ name: string; type: string; ttl: number; records: Array<{ content: string }> }>;
}

const pdnsApi = (method: string, path: string, body?: unknown) => pdns.api<ZoneJson>(method, path, body);

const seed = (name: string, type: string, values: string[], ttl = 300) =>
  pdnsApi('PATCH', '/zones/example.org.', {
    rrsets: [{ name, type, ttl, changetype: 'REPLACE', records: values.map((content) => ({ content, disabled: false })) }],
  });

/** The zone as the API has it: the record and the serial (which any write bumps). */
async function zoneState(name: string, type = 'A'): Promise<{ serial: number; rrset: unknown }> {
  const json = await pdnsApi('GET', '/zones/example.org.');
  return { serial: json.serial, rrset: json.rrsets.find((r: { name: string; type: string }) => r.name === name && r.type === type) ?? null };
}

/** What the authoritative server answers over DNS. */
async function authoritative(name: string): Promise<{ address: string; ttl: number }[]> {
  const resolver = new dns.Resolver({ timeout: 2_000, tries: 1 });
  resolver.setServers([`127.0.0.1:${pdns.dnsPort}`]);
  return resolver.resolve4(name, { ttl: true });
}

beforeAll(async () => {
  [pdns, moto] = await startTogether(startPowerDns({ log: console.log }), startMoto({ log: console.log }));
  await pdnsApi('POST', '/zones', { name: 'example.org.', kind: 'Native', nameservers: ['ns1.example.org.'] }); // throws unless 2xx
  process.env.DNS_TEST_PDNS_KEY = pdns.apiKey;
  process.env.DNS_TEST_WRONG_KEY = wrongKey;
  process.env.DNS_TEST_AWS_KEY = 'AKIDREBOUNDTEST';
  process.env.DNS_TEST_AWS_SECRET = randomBytes(16).toString('hex');
  r53 = new Route53Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const zone = await r53.send(new CreateHostedZoneCommand({ Name: 'example.com.', CallerReference: randomBytes(6).toString('hex') }));
  hostedZoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
}, 600_000); // the first run installs pdns with apt-get and moto with pip (~80 s)

afterAll(async () => {
  await Promise.all([pdns?.stop(), moto?.stop()]);
});

const SECRETS: ActionInput['secrets'] = {
  pdns_key: { env: 'DNS_TEST_PDNS_KEY' },
  wrong_key: { env: 'DNS_TEST_WRONG_KEY' },
  aws_key: { env: 'DNS_TEST_AWS_KEY' },
  aws_secret: { env: 'DNS_TEST_AWS_SECRET' },
};

const steps = stepRunner({ runbook: 'failover', runId: 'run-1', step: 'switch-dns', secrets: SECRETS });
const run = (w: Record<string, unknown>, options?: RunOptions) => steps.run(dnsSwitchImpl, w, options);

const viaPdns = (name: string, values: string[], more: Record<string, unknown> = {}) => ({
  provider: 'powerdns',
  zone: 'example.org.',
  name,
  type: 'A',
  values,
  ttl: 60,
  verify_timeout: '10s',
  powerdns: { api_url: pdns.apiUrl, api_key: { $secret: 'pdns_key' }, resolver: `127.0.0.1:${pdns.dnsPort}` },
  ...more,
});

describe('dns.switch on PowerDNS', () => {
  it('switches a record, verifies it over DNS, and its revert goes back', async () => {
    await seed('orders.example.org.', 'A', ['10.0.0.1']);
    const before = Date.now();
    const w = viaPdns('orders.example.org.', ['10.0.1.1']);
    const { outputs } = await run(w);
    expect(outputs).toMatchObject({
      provider: 'powerdns',
      name: 'orders.example.org.',
      type: 'A',
      changed: true,
      simulated: false,
      previous: { values: ['10.0.0.1'], ttl: 300 },
      current: { values: ['10.0.1.1'], ttl: 60 },
    });
    expect(Date.parse(String(outputs.converged_by))).toBeGreaterThanOrEqual(before + 300_000);
    expect(await authoritative('orders.example.org')).toEqual([{ address: '10.0.1.1', ttl: 60 }]);

    const back = dnsSwitch.revert!(w, outputs)!;
    expect(back).toMatchObject({
      values: ['10.0.0.1'],
      ttl: 300,
      expect_current: { values: ['10.0.1.1'], ttl: 60 },
      powerdns: { api_key: { $secret: 'pdns_key' } },
    });
    expect((await run(back)).outputs).toMatchObject({ changed: true, current: { values: ['10.0.0.1'], ttl: 300 } });
    expect(await authoritative('orders.example.org')).toEqual([{ address: '10.0.0.1', ttl: 300 }]);
  });

  it('a re-run at the target changes nothing and writes nothing', async () => {
    await seed('idem.example.org.', 'A', ['10.0.0.2']);
    const w = viaPdns('idem.example.org.', ['10.0.2.2', '10.0.2.1']);
    expect((await run(w)).outputs.changed).toBe(true);
    const before = await zoneState('idem.example.org.');
    const { outputs } = await run(w);
    expect(outputs).toMatchObject({ changed: false, previous: { values: ['10.0.2.1', '10.0.2.2'], ttl: 60 } });
    expect(dnsSwitch.revert!(w, outputs)).toBeUndefined();
    expect(await zoneState('idem.example.org.')).toEqual(before);
  });

  it('a retry after the write still reports what the first attempt found', async () => {
    await seed('retry.example.org.', 'A', ['10.0.0.3']);
    const w = viaPdns('retry.example.org.', ['10.0.3.3']);
    const first = new MockActivityEnvironment({ attempt: 1 });
    let last: unknown;
    first.on('heartbeat', (details) => (last = details));
    await run(w, { env: first });
    // Attempt 2 starts from attempt 1's last heartbeat, as Temporal gives it after a worker crash.
    const { outputs } = await run(w, { env: new MockActivityEnvironment({ attempt: 2, heartbeatDetails: last }) });
    expect(outputs).toMatchObject({ changed: true, previous: { values: ['10.0.0.3'], ttl: 300 } });
  });

  it('refuses when the record is not what expect_current says, naming both', async () => {
    await seed('guarded.example.org.', 'A', ['10.0.0.4']);
    const before = await zoneState('guarded.example.org.');
    const failure = await failureOf(run(viaPdns('guarded.example.org.', ['10.0.4.4'], { expect_current: ['10.9.9.9'] })));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('conflict');
    expect(failure.message).toContain('10.0.0.4');
    expect(failure.message).toContain('10.9.9.9');
    expect(failure.message).toMatch(/not retryable/);
    expect(await zoneState('guarded.example.org.')).toEqual(before);
  });

  it('a revert refuses a record whose TTL changed since the switch, and leaves it as it is', async () => {
    await seed('ttl.example.org.', 'A', ['10.0.0.9']);
    const w = viaPdns('ttl.example.org.', ['10.0.9.9']);
    const { outputs } = await run(w);
    await seed('ttl.example.org.', 'A', ['10.0.9.9'], 900);
    const before = await zoneState('ttl.example.org.');
    const failure = await failureOf(run(dnsSwitch.revert!(w, outputs)!));
    expect(failure).toMatchObject({ type: 'conflict', nonRetryable: true });
    expect(failure.message).toContain('holds [10.0.9.9] (ttl 900), but expect_current is [10.0.9.9] (ttl 60); it changed since the plan was made');
    expect(await zoneState('ttl.example.org.')).toEqual(before);
    // Values and TTL as the switch left them: the revert goes through.
    await seed('ttl.example.org.', 'A', ['10.0.9.9'], 60);
    expect((await run(dnsSwitch.revert!(w, outputs)!)).outputs).toMatchObject({ changed: true, current: { values: ['10.0.0.9'], ttl: 300 } });
  });

  it('a CNAME cannot be put beside other records', async () => {
    await seed('web.example.org.', 'A', ['10.0.0.5']);
    const failure = await failureOf(run(viaPdns('web.example.org.', ['standby.example.net.'], { type: 'CNAME' })));
    expect(failure).toMatchObject({ type: 'conflict', nonRetryable: true });
  });

  it('a wrong API key is not retryable, says so plainly, and shows no key', async () => {
    const w = viaPdns('orders.example.org.', ['10.0.1.1'], { powerdns: { api_url: pdns.apiUrl, api_key: { $secret: 'wrong_key' } } });
    for (const simulate of [false, true]) {
      const failure = await failureOf(run(w, { simulate }));
      expect(failure.nonRetryable).toBe(true);
      expect(failure.type).toBe('auth_failed');
      expect(failure.message).toContain('refused the API key');
      const everything = JSON.stringify({ message: failure.message, stack: failure.stack, details: failure.details, cause: String(failure.cause) });
      expect(everything).not.toContain(wrongKey);
      expect(everything).not.toContain(pdns.apiKey);
    }
  });

  it('PowerDNS stopped mid-step: a retryable failure, then success once it is back', async () => {
    await seed('outage.example.org.', 'A', ['10.0.0.6']);
    const w = viaPdns('outage.example.org.', ['10.0.6.6']);
    await pdns.stop({ keepData: true });
    // Started again only once the attempt has failed: however slow the attempt, it meets a stopped server.
    const failure = await failureOf(run(w)).finally(() => pdns.start());
    expect(failure.nonRetryable).toBe(false);
    expect(failure.type).toBe('unreachable');
    expect(failure.message).toMatch(
      /^dns: step "switch-dns": PowerDNS API at http:\/\/127\.0\.0\.1:\d+ did not answer \(ECONNREFUSED\) — will retry \(attempt 1 of 3\)$/,
    );
    const { outputs } = await run(w, { env: new MockActivityEnvironment({ attempt: 2 }) });
    expect(outputs).toMatchObject({ changed: true, previous: { values: ['10.0.0.6'] } });
    expect(await authoritative('outage.example.org')).toEqual([{ address: '10.0.6.6', ttl: 60 }]);
  });

  it('a change the authoritative server does not answer within verify_timeout is a retryable failure', async () => {
    await seed('unverified.example.org.', 'A', ['10.0.0.8']);
    const silent = `127.0.0.1:${await freePort()}`; // nothing listens there
    const w = viaPdns('unverified.example.org.', ['10.0.8.8'], { verify_timeout: '1s' });
    (w.powerdns as Record<string, unknown>).resolver = silent;
    const failure = await failureOf(run(w));
    expect(failure).toMatchObject({ type: 'timeout', nonRetryable: false });
    expect(failure.message).toContain(`the authoritative server ${silent} does not answer`);
    expect(failure.message).toContain('1s after the change, expected [10.0.8.8] (ttl 60) — will retry');
    // The record was written: the failure says what it held before and what the step was setting, for a failback.
    expect(failure.details?.[0]).toMatchObject({
      partial: { previous: { values: ['10.0.0.8'], ttl: 300 }, target: { values: ['10.0.8.8'], ttl: 60 } },
    });
  });

  it('a retry that fails again still reports what the first attempt found; a first attempt refused before writing changed nothing', async () => {
    await seed('unverified2.example.org.', 'A', ['10.0.0.10']);
    const w = viaPdns('unverified2.example.org.', ['10.0.10.10'], { verify_timeout: '1s' });
    (w.powerdns as Record<string, unknown>).resolver = `127.0.0.1:${await freePort()}`;
    const first = new MockActivityEnvironment({ attempt: 1 });
    let last: unknown;
    first.on('heartbeat', (details) => (last = details));
    await failureOf(run(w, { env: first }));
    const again = await failureOf(run(w, { env: new MockActivityEnvironment({ attempt: 2, heartbeatDetails: last }) }));
    expect(again.type).toBe('timeout');
    expect(again.details?.[0]).toMatchObject({ partial: { previous: { values: ['10.0.0.10'], ttl: 300 }, target: { values: ['10.0.10.10'], ttl: 60 } } });

    const refused = await failureOf(run(viaPdns('unverified2.example.org.', ['10.0.10.11'], { expect_current: ['10.9.9.9'] })));
    expect(refused.type).toBe('conflict');
    expect(refused.details?.[0]).toMatchObject({ partial: { previous: { values: ['10.0.10.10'], ttl: 60 }, changed: false } });
  });

  it('a drill leaves the record alone and reports the change it would make', async () => {
    await seed('drill.example.org.', 'A', ['10.0.0.7']);
    const before = await zoneState('drill.example.org.');
    const { outputs } = await run(viaPdns('drill.example.org.', ['10.0.7.7'], { expect_current: ['10.0.0.7'] }), { simulate: true });
    expect(outputs).toMatchObject({ simulated: true, changed: true, previous: { values: ['10.0.0.7'], ttl: 300 }, current: { values: ['10.0.7.7'], ttl: 60 } });
    const preflight = outputs.preflight as string[];
    expect(preflight[0]).toContain('zone example.org. on PowerDNS server localhost');
    expect(preflight).toContain('expect_current matches: drill.example.org. A holds [10.0.0.7] (ttl 300)');
    expect(preflight.some((l) => l.startsWith(`the authoritative server 127.0.0.1:${pdns.dnsPort} answers [10.0.0.7] (ttl 300)`))).toBe(true);
    expect(preflight.at(-1)).toBe('would set drill.example.org. A from [10.0.0.7] (ttl 300) to [10.0.7.7] (ttl 60)');
    expect(await zoneState('drill.example.org.')).toEqual(before);
    expect(await authoritative('drill.example.org')).toEqual([{ address: '10.0.0.7', ttl: 300 }]);
    expect(dnsSwitch.revert!({}, outputs)).toBeUndefined();
  });

  it('a drill on a zone that does not exist fails, saying why', async () => {
    const failure = await failureOf(run(viaPdns('orders.missing.example.', ['10.0.0.1'], { zone: 'missing.example.' }), { simulate: true }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('not_found');
    expect(failure.message).toContain('preflight failed: zone missing.example. does not exist on PowerDNS server localhost');
  });
});

describe('dns.switch on Route 53 (moto)', () => {
  const viaR53 = (name: string, values: string[], more: Record<string, unknown> = {}) => ({
    provider: 'route53',
    zone: 'example.com',
    name,
    type: 'A',
    values,
    ttl: 60,
    route53: { endpoint: moto.endpoint, access_key: { $secret: 'aws_key' }, secret_key: { $secret: 'aws_secret' } },
    ...more,
  });
  const upsert = (name: string, values: string[], ttl = 300) =>
    r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: hostedZoneId,
        ChangeBatch: {
          Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: name, Type: 'A', TTL: ttl, ResourceRecords: values.map((Value) => ({ Value })) } }],
        },
      }),
    );
  const readBack = async (name: string) => {
    const listed = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, StartRecordName: name, StartRecordType: 'A', MaxItems: 1 }));
    const set = listed.ResourceRecordSets?.find((r) => r.Name === name && r.Type === 'A');
    return set ? { values: set.ResourceRecords!.map((r) => r.Value), ttl: set.TTL } : null;
  };

  it('UPSERTs, waits for INSYNC, reads back, and is idempotent', async () => {
    await upsert('api.example.com.', ['192.0.2.1']);
    const w = viaR53('api.example.com.', ['198.51.100.7']);
    const { outputs } = await run(w);
    expect(outputs).toMatchObject({
      provider: 'route53',
      name: 'api.example.com.',
      changed: true,
      previous: { values: ['192.0.2.1'], ttl: 300 },
      current: { values: ['198.51.100.7'], ttl: 60 },
    });
    expect(await readBack('api.example.com.')).toEqual({ values: ['198.51.100.7'], ttl: 60 });
    expect((await run(w)).outputs).toMatchObject({ changed: false });
    expect(dnsSwitch.revert!(w, outputs)).toMatchObject({ values: ['192.0.2.1'], ttl: 300, expect_current: { values: ['198.51.100.7'], ttl: 60 } });
  });

  it('a revert refuses a record whose TTL changed since the switch, and leaves it as it is', async () => {
    await upsert('ttl.example.com.', ['192.0.2.40']);
    const w = viaR53('ttl.example.com.', ['198.51.100.40']);
    const { outputs } = await run(w);
    await upsert('ttl.example.com.', ['198.51.100.40'], 900);
    const failure = await failureOf(run(dnsSwitch.revert!(w, outputs)!));
    expect(failure).toMatchObject({ type: 'conflict', nonRetryable: true });
    expect(failure.message).toContain('holds [198.51.100.40] (ttl 900), but expect_current is [198.51.100.40] (ttl 60)');
    expect(await readBack('ttl.example.com.')).toEqual({ values: ['198.51.100.40'], ttl: 900 });
  });

  it('honours expect_current, and finds the zone by id as well as by name', async () => {
    await upsert('db.example.com.', ['192.0.2.9']);
    const failure = await failureOf(run(viaR53('db.example.com.', ['198.51.100.9'], { expect_current: ['192.0.2.8'] })));
    expect(failure).toMatchObject({ type: 'conflict', nonRetryable: true });
    expect(failure.message).toContain('192.0.2.9');
    expect(failure.message).toContain('192.0.2.8');
    const byId = viaR53('db.example.com.', ['198.51.100.9'], { expect_current: ['192.0.2.9'] });
    (byId.route53 as Record<string, unknown>).hosted_zone_id = hostedZoneId;
    expect((await run(byId)).outputs).toMatchObject({ changed: true });
    expect(await readBack('db.example.com.')).toEqual({ values: ['198.51.100.9'], ttl: 60 });
  });

  it('creates a missing record, which failback cannot undo automatically', async () => {
    const w = viaR53('new.example.com.', ['198.51.100.20'], { expect_current: [] });
    const { outputs } = await run(w);
    expect(outputs).toMatchObject({ changed: true, previous: null });
    expect(dnsSwitch.revert!(w, outputs)).toBeUndefined();
  });

  it('a drill changes nothing; a missing zone fails the preflight', async () => {
    await upsert('drill.example.com.', ['192.0.2.30']);
    const { outputs } = await run(viaR53('drill.example.com.', ['198.51.100.30']), { simulate: true });
    expect((outputs.preflight as string[]).at(-1)).toBe('would set drill.example.com. A from [192.0.2.30] (ttl 300) to [198.51.100.30] (ttl 60)');
    expect(await readBack('drill.example.com.')).toEqual({ values: ['192.0.2.30'], ttl: 300 });
    const failure = await failureOf(run(viaR53('x.nowhere.example.', ['198.51.100.1'], { zone: 'nowhere.example.' }), { simulate: true }));
    expect(failure).toMatchObject({ type: 'not_found', nonRetryable: true });
    expect(failure.message).toContain('preflight failed: no hosted zone named nowhere.example.');
  });
});

describe('dns.switch input', () => {
  const parse = (w: Record<string, unknown>) =>
    dnsSwitch.input.safeParse({ provider: 'route53', zone: 'example.org.', name: 'a.example.org.', type: 'A', values: ['10.0.0.1'], ...w });
  it('checks values against the type, the name against the zone, and the provider block', () => {
    expect(parse({}).success).toBe(true);
    expect(parse({ values: ['2001:db8::1'] }).error?.issues[0]?.message).toBe('not an IPv4 address: 2001:db8::1');
    expect(parse({ type: 'AAAA', values: ['2001:db8::1'] }).success).toBe(true);
    expect(parse({ type: 'CNAME', values: ['a.example.net.', 'b.example.net.'] }).error?.issues[0]?.message).toBe('a CNAME has exactly one value');
    expect(parse({ name: 'a.example.com.' }).error?.issues[0]?.message).toBe('a.example.com. is not inside the zone example.org.');
    expect(parse({ provider: 'powerdns' }).error?.issues[0]?.path).toEqual(['powerdns']);
  });
  it('declares its credentials as secret inputs', () => {
    expect(dnsSwitch.secret_inputs).toEqual(['powerdns.api_key', 'route53.access_key', 'route53.secret_key']);
  });
});
