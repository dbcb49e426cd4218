// routing.switch against a real HAProxy (traffic proven by HTTP through it) and against moto's ELBv2 API.
import {
  ElasticLoadBalancingV2Client,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routingSwitch } from '../../contract/actions/routing.ts';
import { command, parseLocation, readServers } from '../../activities/routing/haproxy.ts';
import { readForward } from '../../activities/routing/elbv2.ts';
import { routingSwitchImpl } from '../../activities/routing/switch.ts';
import { stepRunner } from '../helpers/activity.ts';
import { startHaproxy, type HaproxyServer } from '../../stack/haproxy.ts';
import { startMoto, type MotoServer } from '../../stack/moto.ts';
import { freePort } from '../../stack/ports.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { failureOf } from '../helpers/failure.ts';

const log = (line: string) => console.log(`[routing test] ${line}`);

// The ELBv2 keys travel as secret references, resolved on the "worker" from these variables.
const secrets = { aws_key: { env: 'REBOUND_TEST_AWS_KEY' }, aws_secret: { env: 'REBOUND_TEST_AWS_SECRET' } };
const steps = stepRunner({ runbook: 'failover', runId: 'run-1', step: 'switch', secrets });
const run = (w: Record<string, unknown>, simulate = false) => steps.run(routingSwitchImpl, w, { simulate });

describe('routing.switch on HAProxy', () => {
  let haproxy: HaproxyServer;
  let servers: Awaited<ReturnType<typeof startHttpServer>>[] = [];
  const hostOf = (url: string) => new URL(url).host;
  const socket = () => haproxy.statsSocket.tcp;
  const haproxyWith = (servers: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    provider: 'haproxy',
    haproxy: { socket: socket(), backend: 'web', servers },
    ...extra,
  });
  const failover = { primary: { state: 'maint' }, standby: { state: 'ready' } };

  /** Which side answers, request by request, through HAProxy's frontend (a new connection each time). */
  async function answers(count: number): Promise<string[]> {
    const bodies: string[] = [];
    for (let i = 0; i < count; i++) bodies.push(await (await fetch(`${haproxy.frontendUrl}/`, { headers: { connection: 'close' } })).text());
    return bodies;
  }

  /** `show servers state web` without the seconds-since-last-change column, which moves on its own. */
  async function rawState(): Promise<string> {
    const text = await command(parseLocation(socket()), 'show servers state web');
    const lines = text.trim().split('\n');
    const drop = lines
      .find((l) => l.startsWith('#'))!
      .slice(1)
      .trim()
      .split(/\s+/)
      .indexOf('srv_time_since_last_change');
    return lines
      .map((l) =>
        l.startsWith('#') || !/\s/.test(l)
          ? l
          : l
              .split(/\s+/)
              .filter((_, i) => i !== drop)
              .join(' '),
      )
      .join('\n');
  }

  beforeAll(async () => {
    const primary = await startHttpServer({ '/': (_q, res) => void res.writeHead(200).end('primary') });
    const standby = await startHttpServer({ '/': (_q, res) => void res.writeHead(200).end('standby') });
    servers = [primary, standby];
    // Active/standby, as a site runs before a failover: the standby is `disabled` in the
    // configuration, which HAProxy remembers (CMAINT) even after it is put in service.
    const web = { servers: { primary: hostOf(primary.url('/')), standby: hostOf(standby.url('/')) }, disabled: ['standby'] };
    haproxy = await startHaproxy({ backends: { web }, log });
  });
  afterAll(async () => {
    await haproxy?.stop();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('fails over: primary to maint, standby to ready; HTTP through HAProxy reaches only the standby', async () => {
    expect(new Set(await answers(4))).toEqual(new Set(['primary']));
    const result = await run(haproxyWith(failover));
    expect(result.outputs).toEqual({
      provider: 'haproxy',
      previous: { primary: { state: 'ready', weight: 1 }, standby: { state: 'maint', weight: 1 } },
      current: { primary: { state: 'maint', weight: 1 }, standby: { state: 'ready', weight: 1 } },
      changed: true,
      simulated: false,
    });
    expect(await answers(8)).toEqual(Array(8).fill('standby'));
    const readBack = await readServers(parseLocation(socket()), 'web');
    expect(readBack.get('primary')).toMatchObject({ state: 'maint', operational: 'down' });
    expect(readBack.get('standby')).toMatchObject({ state: 'ready', operational: 'up' });
  });

  it('a re-run is already at the target: changed false, no write (over the unix socket)', async () => {
    const before = await rawState();
    const result = await run({ provider: 'haproxy', haproxy: { socket: haproxy.statsSocket.unix, backend: 'web', servers: failover } });
    expect(result.outputs).toMatchObject({ changed: false, simulated: false, previous: result.outputs.current });
    expect(await rawState()).toBe(before);
    expect(routingSwitch.revert!(haproxyWith(failover), result.outputs)).toBeUndefined();
  });

  it('expect_current that no longer holds fails without a change, naming what was expected and found', async () => {
    const before = await rawState();
    const failure = await failureOf(run(haproxyWith({ primary: { state: 'ready' } }, { expect_current: { primary: { state: 'ready' } } })));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('conflict');
    expect(failure.message).toContain('expected {"primary":{"state":"ready"}}');
    expect(failure.message).toContain('found {"primary":{"state":"maint","weight":1}}');
    expect(await rawState()).toBe(before);
  });

  it('an unknown backend or server is not retryable', async () => {
    const backend = await failureOf(run({ provider: 'haproxy', haproxy: { socket: socket(), backend: 'nope', servers: failover } }));
    expect(backend.nonRetryable).toBe(true);
    expect(backend.message).toContain('has no backend "nope"');
    const server = await failureOf(run(haproxyWith({ ghost: { state: 'ready' } })));
    expect(server.nonRetryable).toBe(true);
    expect(server.message).toContain('backend "web" has no server ghost (it has primary, standby)');
  });

  it('simulated, it proves the change is possible, reports it, and changes nothing', async () => {
    const before = await rawState();
    const back = { primary: { state: 'ready' }, standby: { state: 'maint' } };
    const result = await run(haproxyWith(back), true);
    expect(await rawState()).toBe(before);
    expect(result.outputs).toMatchObject({
      simulated: true,
      changed: true,
      previous: { primary: { state: 'maint', weight: 1 }, standby: { state: 'ready', weight: 1 } },
      current: { primary: { state: 'ready', weight: 1 }, standby: { state: 'maint', weight: 1 } },
    });
    expect(result.outputs.preflight).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/backend "web" has servers primary, standby/),
        'would set web/primary: maint weight 1 → ready weight 1',
        'would set web/standby: ready weight 1 → maint weight 1',
      ]),
    );
    expect(await answers(4)).toEqual(Array(4).fill('standby'));
    const missing = await failureOf(run({ provider: 'haproxy', haproxy: { socket: socket(), backend: 'nope', servers: back } }, true));
    expect(missing.nonRetryable).toBe(true);
  });

  it('fails back with the generated revert, guarded by what the run set', async () => {
    const w = haproxyWith({ primary: { state: 'ready', weight: 0 }, standby: { state: 'ready', weight: 10 } });
    const weighted = await run(w);
    expect(weighted.outputs.current).toEqual({ primary: { state: 'ready', weight: 0 }, standby: { state: 'ready', weight: 10 } });
    // Weight 0 takes a server out of round robin even when it is ready.
    expect(await answers(6)).toEqual(Array(6).fill('standby'));
    const revert = routingSwitch.revert!(w, weighted.outputs)!;
    expect(revert).toMatchObject({ expect_current: weighted.outputs.current, haproxy: { servers: weighted.outputs.previous } });
    expect((await run(revert)).outputs).toMatchObject({
      changed: true,
      current: { primary: { state: 'maint', weight: 1 }, standby: { state: 'ready', weight: 1 } },
    });
    // A second failback finds the guard broken: it must not undo a change made since.
    const again = await failureOf(run(revert));
    expect(again.type).toBe('conflict');
  });

  it('input that does not fit the provider is not retryable', async () => {
    const failure = await failureOf(run({ provider: 'haproxy', elbv2: { listener_arn: 'arn:x', target_groups: { 'arn:a': 1 } } }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('provider haproxy needs a haproxy block');
  });

  it('with HAProxy stopped, the failure is retryable and says it will retry', async () => {
    const [tcp, unix] = [haproxy.statsSocket.tcp, haproxy.statsSocket.unix];
    await haproxy.stop();
    for (const at of [tcp, unix]) {
      const failure = await failureOf(run({ provider: 'haproxy', haproxy: { socket: at, backend: 'web', servers: failover } }));
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toMatch(/^routing: step "switch": HAProxy Runtime API at \S+: (ECONNREFUSED|ENOENT) — will retry \(attempt 1 of 3\)$/);
    }
  });
});

describe('routing.switch on AWS ELBv2 (moto)', () => {
  let moto: MotoServer;
  let client: ElasticLoadBalancingV2Client;
  let listenerArn = '';
  let ruleArn = '';
  let primary = '';
  let standby = '';
  // moto accepts any key pair; these are not anyone's credentials.
  const keys = { access_key: 'AKIDREBOUNDTEST', secret_key: 'rebound-test-secret-value' };
  const elbv2With = (
    groups: Record<string, number>,
    extra: Record<string, unknown> = {},
    at: Record<string, string> = { listener_arn: listenerArn },
    endpoint = moto.endpoint,
  ) => ({
    provider: 'aws-elbv2',
    elbv2: { ...at, endpoint, region: 'us-east-1', access_key: { $secret: 'aws_key' }, secret_key: { $secret: 'aws_secret' }, target_groups: groups },
    ...extra,
  });
  const weights = async (at: { listener_arn?: string; rule_arn?: string } = { listener_arn: listenerArn }) =>
    (await readForward(client, { ...at, region: 'us-east-1' })).weights;

  /**
   * moto makes a default VPC with subnets; the load balancer needs two of them. EC2's query
   * API is asked directly (moto routes by the signing scope and checks no signature), which
   * saves a whole EC2 client package for one call.
   */
  async function defaultSubnets(): Promise<{ vpc: string; subnets: string[] }> {
    const response = await fetch(moto.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: 'Action=DescribeSubnets&Version=2016-11-15',
    });
    const text = await response.text();
    return { vpc: text.match(/<vpcId>([^<]+)<\/vpcId>/)![1]!, subnets: [...text.matchAll(/<subnetId>([^<]+)<\/subnetId>/g)].map((m) => m[1]!) };
  }

  beforeAll(async () => {
    moto = await startMoto({ log });
    process.env.REBOUND_TEST_AWS_KEY = keys.access_key;
    process.env.REBOUND_TEST_AWS_SECRET = keys.secret_key;
    client = new ElasticLoadBalancingV2Client({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: keys.access_key, secretAccessKey: keys.secret_key },
    });
    const { vpc, subnets } = await defaultSubnets();
    const lb = await client.send(new CreateLoadBalancerCommand({ Name: 'orders', Type: 'application', Subnets: subnets.slice(0, 2) }));
    const group = async (name: string) =>
      (await client.send(new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: vpc }))).TargetGroups![0]!.TargetGroupArn!;
    [primary, standby] = [await group('orders-primary'), await group('orders-standby')];
    const forward = {
      Type: 'forward' as const,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: primary, Weight: 100 },
          { TargetGroupArn: standby, Weight: 0 },
        ],
      },
    };
    const listener = await client.send(
      new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancers![0]!.LoadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: [forward] }),
    );
    listenerArn = listener.Listeners![0]!.ListenerArn!;
    const rule = await client.send(
      new CreateRuleCommand({ ListenerArn: listenerArn, Priority: 10, Conditions: [{ Field: 'path-pattern', Values: ['/api/*'] }], Actions: [forward] }),
    );
    ruleArn = rule.Rules![0]!.RuleArn!;
  });
  afterAll(async () => {
    delete process.env.REBOUND_TEST_AWS_KEY;
    delete process.env.REBOUND_TEST_AWS_SECRET;
    client?.destroy();
    await moto?.stop();
  });

  it('switches the weighted forward 100/0 → 0/100 and reads it back', async () => {
    const result = await run(elbv2With({ [primary]: 0, [standby]: 100 }, { expect_current: { [primary]: 100, [standby]: 0 } }));
    expect(result.outputs).toEqual({
      provider: 'aws-elbv2',
      previous: { [primary]: 100, [standby]: 0 },
      current: { [primary]: 0, [standby]: 100 },
      changed: true,
      simulated: false,
    });
    expect(await weights()).toEqual({ [primary]: 0, [standby]: 100 });
    // The rule has its own forward, untouched by the listener's switch.
    expect(await weights({ rule_arn: ruleArn })).toEqual({ [primary]: 100, [standby]: 0 });
    const revert = routingSwitch.revert!(elbv2With({ [primary]: 0, [standby]: 100 }), result.outputs)!;
    // The failback's `with:` keeps the keys as references, never their values.
    expect(revert.elbv2).toMatchObject({
      access_key: { $secret: 'aws_key' },
      secret_key: { $secret: 'aws_secret' },
      target_groups: { [primary]: 100, [standby]: 0 },
    });
  });

  it('a re-run changes nothing', async () => {
    const result = await run(elbv2With({ [primary]: 0, [standby]: 100 }));
    expect(result.outputs).toMatchObject({ changed: false, previous: { [primary]: 0, [standby]: 100 }, current: { [primary]: 0, [standby]: 100 } });
  });

  it('expect_current that no longer holds is a conflict naming both, and nothing changes', async () => {
    const failure = await failureOf(run(elbv2With({ [primary]: 50, [standby]: 50 }, { expect_current: { [primary]: 100, [standby]: 0 } })));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('conflict');
    expect(failure.message).toContain(`expected {"${primary}":100,"${standby}":0}`);
    expect(failure.message).toContain(`found {"${primary}":0,"${standby}":100}`);
    expect(failure.message).not.toContain(keys.secret_key);
    expect(await weights()).toEqual({ [primary]: 0, [standby]: 100 });
  });

  it('simulated, it checks listener and groups, reports the change, and changes nothing', async () => {
    const result = await run(elbv2With({ [primary]: 100, [standby]: 0 }), true);
    expect(await weights()).toEqual({ [primary]: 0, [standby]: 100 });
    expect(result.outputs).toMatchObject({ simulated: true, changed: true, current: { [primary]: 100, [standby]: 0 } });
    expect(result.outputs.preflight).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^listener arn:\S+ exists \(HTTP:80 on arn:/),
        'target groups exist: orders-primary, orders-standby',
        `would set orders-primary (${primary}): weight 0 → 100`,
      ]),
    );
    const ghost = primary.replace('orders-primary', 'orders-ghost');
    const missing = await failureOf(run(elbv2With({ [primary]: 0, [ghost]: 100 }), true));
    expect(missing.nonRetryable).toBe(true);
    expect(missing.message).toContain(`target group ${ghost} does not exist`);
  });

  it('switches a rule, and fails back with the generated revert', async () => {
    const w = elbv2With({ [primary]: 0, [standby]: 100 }, {}, { rule_arn: ruleArn });
    const result = await run(w);
    expect(await weights({ rule_arn: ruleArn })).toEqual({ [primary]: 0, [standby]: 100 });
    const revert = routingSwitch.revert!(w, result.outputs)!;
    expect((await run(revert)).outputs).toMatchObject({ changed: true, current: { [primary]: 100, [standby]: 0 } });
    expect(await weights({ rule_arn: ruleArn })).toEqual({ [primary]: 100, [standby]: 0 });
  });

  it('an unknown listener is not retryable; an endpoint that does not answer is', async () => {
    const failure = await failureOf(run(elbv2With({ [primary]: 1 }, {}, { listener_arn: `${listenerArn}0` })));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('ListenerNotFound');
    const down = await failureOf(run(elbv2With({ [primary]: 1 }, {}, { listener_arn: listenerArn }, `http://127.0.0.1:${await freePort()}`)));
    expect(down.nonRetryable).toBe(false);
    expect(down.message).toMatch(/ECONNREFUSED.* — will retry \(attempt 1 of 3\)$/);
    expect(down.message).not.toContain(keys.secret_key);
  });
});
