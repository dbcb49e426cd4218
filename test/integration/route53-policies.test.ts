// dns.switch on Route 53 routing-policy records (weighted, failover, latency) by set_identifier, and route53.health_check, against moto (compile errors: compiler/dns-policy.test.ts).
import { randomBytes } from 'node:crypto';
import {
  ChangeResourceRecordSetsCommand,
  CreateHealthCheckCommand,
  CreateHostedZoneCommand,
  GetHealthCheckCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { route53HealthCheckImpl } from '../../activities/dns/health-check.ts';
import { dnsSwitchImpl } from '../../activities/dns/switch.ts';
import { route53HealthCheck } from '../../contract/actions/dns-route53.ts';
import { dnsSwitch } from '../../contract/actions/dns.ts';
import type { ActionInput } from '../../contract/run.ts';
import { startMoto, type MotoServer } from '../../stack/moto.ts';
import { stepRunner } from '../helpers/activity.ts';
import { failureOf } from '../helpers/failure.ts';

let moto: MotoServer;
let r53: Route53Client;
let zoneId = '';

beforeAll(async () => {
  moto = await startMoto({ log: console.log });
  process.env.R53P_TEST_AWS_KEY = 'AKIDREBOUNDPOLICY';
  process.env.R53P_TEST_AWS_SECRET = randomBytes(16).toString('hex');
  r53 = new Route53Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const zone = await r53.send(new CreateHostedZoneCommand({ Name: 'example.net.', CallerReference: randomBytes(6).toString('hex') }));
  zoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
}, 600_000); // the first run installs moto with pip

afterAll(async () => {
  await moto?.stop();
});

const SECRETS: ActionInput['secrets'] = { aws_key: { env: 'R53P_TEST_AWS_KEY' }, aws_secret: { env: 'R53P_TEST_AWS_SECRET' } };
const steps = stepRunner({ runbook: 'inference-dr', runId: 'run-1', step: 'shift', secrets: SECRETS });
const connection = () => ({ endpoint: moto.endpoint, access_key: { $secret: 'aws_key' }, secret_key: { $secret: 'aws_secret' } });
const switchDns = (w: Record<string, unknown>, simulate = false) => steps.run(dnsSwitchImpl, w, { simulate });
const healthCheck = (w: Record<string, unknown>, simulate = false) => steps.run(route53HealthCheckImpl, w, { simulate });

/** A dns.switch `with:` for one set of a name in example.net. */
const policyStep = (name: string, set: string, more: Record<string, unknown> = {}) => ({
  provider: 'route53',
  zone: 'example.net.',
  name,
  type: 'A',
  set_identifier: set,
  route53: connection(),
  ...more,
});

/** Writes policy records as someone set them up in the console, each with TTL 300. */
const seed = (name: string, records: Array<Partial<ResourceRecordSet> & { values: string[] }>) =>
  r53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: records.map(({ values, ...rest }) => ({
          Action: 'UPSERT' as const,
          ResourceRecordSet: { Name: name, Type: 'A', TTL: 300, ResourceRecords: values.map((Value) => ({ Value })), ...rest },
        })),
      },
    }),
  );

/** Every A record at the name, by SetIdentifier, as the Route 53 API returns it. */
async function readBack(name: string): Promise<Record<string, Record<string, unknown>>> {
  const listed = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: name, StartRecordType: 'A' }));
  const sets = (listed.ResourceRecordSets ?? []).filter((r) => r.Name === name && r.Type === 'A');
  return Object.fromEntries(
    sets.map((r) => [
      r.SetIdentifier ?? '',
      {
        values: r.ResourceRecords!.map((v) => v.Value),
        ttl: r.TTL,
        ...(r.Weight !== undefined ? { weight: r.Weight } : {}),
        ...(r.Failover ? { failover: r.Failover } : {}),
        ...(r.Region ? { region: r.Region } : {}),
        ...(r.HealthCheckId ? { health_check_id: r.HealthCheckId } : {}),
      },
    ]),
  );
}

async function createHealthCheck(ip: string): Promise<string> {
  const created = await r53.send(
    new CreateHealthCheckCommand({
      CallerReference: randomBytes(6).toString('hex'),
      HealthCheckConfig: { Type: 'HTTP', IPAddress: ip, Port: 80, ResourcePath: '/health', RequestInterval: 10, FailureThreshold: 3 },
    }),
  );
  return created.HealthCheck!.Id!;
}

const healthCheckFlags = async (id: string) => {
  const got = await r53.send(new GetHealthCheckCommand({ HealthCheckId: id }));
  return { inverted: got.HealthCheck!.HealthCheckConfig!.Inverted ?? false, disabled: got.HealthCheck!.HealthCheckConfig!.Disabled ?? false };
};

describe('dns.switch on weighted records', () => {
  const name = 'api.example.net.';
  const pair = () =>
    seed(name, [
      { SetIdentifier: 'primary', Weight: 100, values: ['192.0.2.1'] },
      { SetIdentifier: 'standby', Weight: 0, values: ['198.51.100.1'] },
    ]);

  it('moves the weights to 25/75 by set_identifier, leaving values and TTL alone, and the reverts put 100/0 back', async () => {
    await pair();
    const toPrimary = policyStep(name, 'primary', { weight: 25 });
    const toStandby = policyStep(name, 'standby', { weight: 75 });
    const primary = (await switchDns(toPrimary)).outputs;
    const standby = (await switchDns(toStandby)).outputs;
    expect(primary).toMatchObject({
      changed: true,
      previous: { values: ['192.0.2.1'], ttl: 300, set_identifier: 'primary', weight: 100 },
      current: { values: ['192.0.2.1'], ttl: 300, set_identifier: 'primary', weight: 25 },
    });
    expect(standby).toMatchObject({ changed: true, previous: { weight: 0 }, current: { values: ['198.51.100.1'], ttl: 300, weight: 75 } });
    expect(await readBack(name)).toEqual({
      primary: { values: ['192.0.2.1'], ttl: 300, weight: 25 },
      standby: { values: ['198.51.100.1'], ttl: 300, weight: 75 },
    });
    expect((await switchDns(toPrimary)).outputs).toMatchObject({ changed: false });

    const back = dnsSwitch.revert!(toPrimary, primary)!;
    expect(back).toMatchObject({
      set_identifier: 'primary',
      weight: 100,
      values: ['192.0.2.1'],
      ttl: 300,
      health_check_id: '',
      expect_current: { values: ['192.0.2.1'], ttl: 300, weight: 25 },
    });
    expect((await switchDns(back)).outputs).toMatchObject({ changed: true, current: { weight: 100 } });
    expect((await switchDns(dnsSwitch.revert!(toStandby, standby)!)).outputs).toMatchObject({ changed: true, current: { weight: 0 } });
    expect(await readBack(name)).toEqual({
      primary: { values: ['192.0.2.1'], ttl: 300, weight: 100 },
      standby: { values: ['198.51.100.1'], ttl: 300, weight: 0 },
    });
  });

  it('refuses, as a conflict, when expect_current names another weight, and changes nothing', async () => {
    await pair();
    const before = await readBack(name);
    const failure = await failureOf(switchDns(policyStep(name, 'primary', { weight: 25, expect_current: { weight: 50 } })));
    expect(failure).toMatchObject({ type: 'conflict', nonRetryable: true });
    expect(failure.message).toContain(`${name} A set "primary" holds [192.0.2.1] (ttl 300, weight 100), but expect_current is weight 50`);
    expect(await readBack(name)).toEqual(before);
    // The weight it does hold passes the guard.
    expect((await switchDns(policyStep(name, 'primary', { weight: 25, expect_current: { weight: 100 } }))).outputs).toMatchObject({ changed: true });
  });

  it('a simple switch of a name with policy records is refused, naming the sets; a set_identifier beside a simple record too', async () => {
    await pair();
    const failure = await failureOf(switchDns({ provider: 'route53', zone: 'example.net.', name, type: 'A', values: ['203.0.113.1'], route53: connection() }));
    expect(failure).toMatchObject({ type: 'invalid_input', nonRetryable: true });
    expect(failure.message).toContain(`${name} A is a routing-policy record (sets "primary", "standby")`);
    expect(failure.message).toContain('set_identifier');
    // And the other way: a set_identifier on a name that holds a simple record.
    await seed('plain.example.net.', [{ values: ['192.0.2.2'] }]);
    const simple = await failureOf(switchDns(policyStep('plain.example.net.', 'primary', { weight: 10, values: ['192.0.2.3'] })));
    expect(simple).toMatchObject({ type: 'conflict', nonRetryable: true });
    expect(simple.message).toContain('plain.example.net. A is a simple record; set_identifier "primary" names a routing-policy record');
  });

  it('a set_identifier that names no record, without values, is not_found naming the sets there', async () => {
    await pair();
    const failure = await failureOf(switchDns(policyStep(name, 'canary', { weight: 10 })));
    expect(failure).toMatchObject({ type: 'not_found', nonRetryable: true });
    expect(failure.message).toContain(`${name} A set "canary" does not exist (the sets there are "primary", "standby"); give values to create it`);
  });

  it('a drill reads the real record and reports the change it would make, changing nothing', async () => {
    await pair();
    const before = await readBack(name);
    const { outputs } = await switchDns(policyStep(name, 'standby', { weight: 75, expect_current: { weight: 0 } }), true);
    expect(outputs).toMatchObject({ simulated: true, changed: true, previous: { weight: 0 }, current: { weight: 75 } });
    const preflight = outputs.preflight as string[];
    expect(preflight).toContain(`${name} A set "standby" holds [198.51.100.1] (ttl 300, weight 0)`);
    expect(preflight.some((l) => l.startsWith(`${name} A is answered by routing-policy records "primary", "standby"`))).toBe(true);
    expect(preflight).toContain(`expect_current matches: ${name} A set "standby" holds [198.51.100.1] (ttl 300, weight 0)`);
    expect(preflight.at(-1)).toBe(`would set ${name} A set "standby" from [198.51.100.1] (ttl 300, weight 0) to [198.51.100.1] (ttl 300, weight 75)`);
    expect(await readBack(name)).toEqual(before);
    expect(dnsSwitch.revert!({}, outputs)).toBeUndefined();
  });
});

describe('failover records and route53.health_check', () => {
  const name = 'infer.example.net.';

  it('switches the SECONDARY, forces the failover by inverting the PRIMARY health check, and both reverts put everything back', async () => {
    const primaryCheck = await createHealthCheck('192.0.2.10');
    const standbyCheck = await createHealthCheck('198.51.100.10');
    await seed(name, [
      { SetIdentifier: 'primary', Failover: 'PRIMARY', HealthCheckId: primaryCheck, values: ['192.0.2.10'] },
      { SetIdentifier: 'secondary', Failover: 'SECONDARY', values: ['198.51.100.10'] },
    ]);

    // The standby site moved: point the SECONDARY at it, with a health check of its own.
    const secondary = policyStep(name, 'secondary', { values: ['198.51.100.20'], health_check_id: standbyCheck });
    const switched = (await switchDns(secondary)).outputs;
    expect(switched).toMatchObject({
      changed: true,
      previous: { values: ['198.51.100.10'], failover: 'SECONDARY' },
      current: { values: ['198.51.100.20'], ttl: 300, failover: 'SECONDARY', health_check_id: standbyCheck },
    });
    expect((switched.previous as Record<string, unknown>).health_check_id).toBeUndefined();
    expect(await readBack(name)).toEqual({
      primary: { values: ['192.0.2.10'], ttl: 300, failover: 'PRIMARY', health_check_id: primaryCheck },
      secondary: { values: ['198.51.100.20'], ttl: 300, failover: 'SECONDARY', health_check_id: standbyCheck },
    });

    // moto does not evaluate health checks: what is tested is the configuration Route 53 would fail over on.
    const invert = { health_check_id: primaryCheck, operation: 'invert', route53: connection() };
    const inverted = (await healthCheck(invert)).outputs;
    expect(inverted).toMatchObject({
      changed: true,
      simulated: false,
      previous: { inverted: false, disabled: false },
      current: { inverted: true, disabled: false },
    });
    expect(await healthCheckFlags(primaryCheck)).toEqual({ inverted: true, disabled: false });
    expect((await healthCheck(invert)).outputs).toMatchObject({ changed: false, previous: { inverted: true }, current: { inverted: true } });

    const uninvert = route53HealthCheck.revert!(invert, inverted)!;
    expect(uninvert).toMatchObject({ health_check_id: primaryCheck, operation: 'uninvert' });
    expect((await healthCheck(uninvert)).outputs).toMatchObject({ changed: true, current: { inverted: false, disabled: false } });
    expect(await healthCheckFlags(primaryCheck)).toEqual({ inverted: false, disabled: false });

    // The SECONDARY's revert takes off the health check it did not have, and puts its values back.
    const back = dnsSwitch.revert!(secondary, switched)!;
    expect(back).toMatchObject({ failover: 'SECONDARY', health_check_id: '', values: ['198.51.100.10'], ttl: 300 });
    expect((await switchDns(back)).outputs).toMatchObject({ changed: true });
    expect((await readBack(name)).secondary).toEqual({ values: ['198.51.100.10'], ttl: 300, failover: 'SECONDARY' });
  });

  it('disable and enable; a drill reads the check and changes nothing; a missing check is not_found', async () => {
    const id = await createHealthCheck('192.0.2.11');
    const disable = { health_check_id: id, operation: 'disable', route53: connection() };
    const { outputs } = await healthCheck(disable, true);
    expect(outputs).toMatchObject({ simulated: true, changed: true, previous: { disabled: false }, current: { disabled: true } });
    expect(outputs.preflight).toEqual([
      `health check ${id} exists and can be read: it probes HTTP 192.0.2.11:80/health`,
      'it is inverted false, disabled false',
      expect.stringMatching(/^would disable it \(inverted false, disabled false → inverted false, disabled true\)/),
    ]);
    expect(route53HealthCheck.revert!(disable, outputs)).toBeUndefined();
    expect(await healthCheckFlags(id)).toEqual({ inverted: false, disabled: false });

    const disabled = (await healthCheck(disable)).outputs;
    expect(await healthCheckFlags(id)).toEqual({ inverted: false, disabled: true });
    expect(route53HealthCheck.revert!(disable, disabled)).toMatchObject({ operation: 'enable' });
    await healthCheck(route53HealthCheck.revert!(disable, disabled)!);
    expect(await healthCheckFlags(id)).toEqual({ inverted: false, disabled: false });

    const missing = await failureOf(healthCheck({ ...disable, health_check_id: '00000000-0000-0000-0000-000000000000' }, true));
    expect(missing).toMatchObject({ type: 'not_found', nonRetryable: true });
    expect(missing.message).toContain('preflight failed: reading health check 00000000-0000-0000-0000-000000000000');
  });

  it('a retry after an update that landed still reports what the first attempt found, so failback undoes it', async () => {
    const id = await createHealthCheck('192.0.2.13');
    const invert = { health_check_id: id, operation: 'invert', route53: connection() };
    const first = new MockActivityEnvironment({ attempt: 1 });
    let last: unknown;
    first.on('heartbeat', (details) => (last = details));
    await steps.run(route53HealthCheckImpl, invert, { env: first });
    // Attempt 2 starts from attempt 1's last heartbeat, as Temporal gives it after a worker crash.
    const { outputs } = await steps.run(route53HealthCheckImpl, invert, { env: new MockActivityEnvironment({ attempt: 2, heartbeatDetails: last }) });
    expect(outputs).toMatchObject({ changed: true, previous: { inverted: false }, current: { inverted: true } });
    expect(route53HealthCheck.revert!(invert, outputs)).toMatchObject({ operation: 'uninvert' });
  });

  it('a weight on a failover record is refused: dns.switch does not change a record’s policy', async () => {
    await seed('pol.example.net.', [{ SetIdentifier: 'primary', Failover: 'PRIMARY', values: ['192.0.2.12'] }]);
    const failure = await failureOf(switchDns(policyStep('pol.example.net.', 'primary', { weight: 10 })));
    expect(failure).toMatchObject({ type: 'invalid_input', nonRetryable: true });
    expect(failure.message).toContain('is a failover record; weight would make it a weighted one');
  });
});

describe('latency records', () => {
  const name = 'edge.example.net.';

  it('switches the record of one region; creates a new one only with its region', async () => {
    await seed(name, [
      { SetIdentifier: 'eu', Region: 'eu-west-1', values: ['192.0.2.30'] },
      { SetIdentifier: 'us', Region: 'us-east-1', values: ['198.51.100.30'] },
    ]);
    const eu = policyStep(name, 'eu', { values: ['192.0.2.31'], ttl: 60 });
    const { outputs } = await switchDns(eu);
    expect(outputs).toMatchObject({
      changed: true,
      previous: { values: ['192.0.2.30'], ttl: 300, region: 'eu-west-1' },
      current: { values: ['192.0.2.31'], ttl: 60, region: 'eu-west-1' },
    });
    expect(await readBack(name)).toEqual({
      eu: { values: ['192.0.2.31'], ttl: 60, region: 'eu-west-1' },
      us: { values: ['198.51.100.30'], ttl: 300, region: 'us-east-1' },
    });
    expect(dnsSwitch.revert!(eu, outputs)).toMatchObject({
      region: 'eu-west-1',
      values: ['192.0.2.30'],
      ttl: 300,
      expect_current: { values: ['192.0.2.31'], ttl: 60 },
    });

    const noPolicy = await failureOf(switchDns(policyStep(name, 'ap', { values: ['203.0.113.30'] })));
    expect(noPolicy).toMatchObject({ type: 'invalid_input', nonRetryable: true });
    expect(noPolicy.message).toContain('a new routing-policy record needs weight, failover or region');
    const created = (await switchDns(policyStep(name, 'ap', { values: ['203.0.113.30'], region: 'ap-southeast-1' }))).outputs;
    expect(created).toMatchObject({ changed: true, previous: null, current: { region: 'ap-southeast-1', ttl: 60 } });
    expect((await readBack(name)).ap).toEqual({ values: ['203.0.113.30'], ttl: 60, region: 'ap-southeast-1' });
  });
});
