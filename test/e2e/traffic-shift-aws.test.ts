// traffic.shift on AWS APIs as moto serves them, through the real Temporal server and a worker process: an ELBv2 weighted forward and Route 53 weighted records.
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readForward } from '../../activities/routing/elbv2.ts';
import { finalStatus } from '../../client/runs.ts';
import type { RunStatus } from '../../contract/run.ts';
import { startMoto, type MotoServer } from '../../stack/moto.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { connect, planOf, start, stepOf, uniqueSite } from '../helpers/runs.ts';

const log = (line: string) => console.log(`[shift aws test] ${line}`);
// moto accepts any key pair; these are not anyone's credentials. They reach the worker as secrets.
const keys = { REBOUND_TEST_AWS_KEY: 'AKIDREBOUNDSHIFT', REBOUND_TEST_AWS_SECRET: 'rebound-shift-secret-value' };
const credentials = { accessKeyId: keys.REBOUND_TEST_AWS_KEY, secretAccessKey: keys.REBOUND_TEST_AWS_SECRET };
let moto: MotoServer;
let worker: WorkerProcess;
let site: string;
let analysis: Awaited<ReturnType<typeof startHttpServer>>;

beforeAll(async () => {
  moto = await startMoto({ log });
  site = uniqueSite('shift-aws');
  worker = await startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), env: keys, startTimeoutMs: 120_000 });
  analysis = await startHttpServer();
}, 300_000);
afterAll(async () => {
  await worker?.kill('SIGKILL');
  await analysis?.close();
  await moto?.stop();
});

const runbook = (mode: string, target: string, from: string, to: string) =>
  `apiVersion: rebound/v1
kind: Runbook
metadata: {name: shift-aws}
spec:
  secrets:
    aws_key: {env: REBOUND_TEST_AWS_KEY}
    aws_secret: {env: REBOUND_TEST_AWS_SECRET}
  steps:
    - id: shift
      uses: traffic.shift
      with:
${target}        from: "${from}"
        to: "${to}"
        steps: [50, 100]
      analysis:
        - uses: http.check
          with: {url: "${analysis.url('/health')}"}
`.replace('metadata: {name: shift-aws}', `metadata: {name: shift-aws-${mode}}`);

const connection = () => `endpoint: "${moto.endpoint}", region: us-east-1, access_key: "\${{ secrets.aws_key }}", secret_key: "\${{ secrets.aws_secret }}"`;
type Shift = {
  outcome: string;
  previous: Record<string, number>;
  current: Record<string, number>;
  sets: { weights: Record<string, number> }[];
  preflight?: string[];
};
const shiftOf = (status: RunStatus) => stepOf(status, 'shift').outputs as unknown as Shift;

async function runIt(text: string, mode: 'run' | 'drill' = 'run'): Promise<RunStatus> {
  const client = await connect(inject('temporalAddress'));
  return finalStatus(await start(client, planOf(text, { mode }), site));
}

describe('traffic.shift on an ELBv2 weighted forward (moto)', () => {
  let elb: ElasticLoadBalancingV2Client;
  let listenerArn = '';
  const groups: Record<string, string> = {};

  beforeAll(async () => {
    elb = new ElasticLoadBalancingV2Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials });
    const response = await fetch(moto.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: 'Action=DescribeSubnets&Version=2016-11-15',
    });
    const text = await response.text();
    const vpc = text.match(/<vpcId>([^<]+)<\/vpcId>/)![1]!;
    const subnets = [...text.matchAll(/<subnetId>([^<]+)<\/subnetId>/g)].map((m) => m[1]!);
    const lb = await elb.send(new CreateLoadBalancerCommand({ Name: 'inference', Type: 'application', Subnets: subnets.slice(0, 2) }));
    for (const name of ['primary', 'standby', 'canary']) {
      const made = await elb.send(new CreateTargetGroupCommand({ Name: `inference-${name}`, Protocol: 'HTTP', Port: 80, VpcId: vpc }));
      groups[name] = made.TargetGroups![0]!.TargetGroupArn!;
    }
    // Failed over, with a third group the shift must leave alone.
    const forward = {
      Type: 'forward' as const,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: groups.primary, Weight: 0 },
          { TargetGroupArn: groups.standby, Weight: 100 },
          { TargetGroupArn: groups.canary, Weight: 5 },
        ],
      },
    };
    const listener = await elb.send(
      new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancers![0]!.LoadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: [forward] }),
    );
    listenerArn = listener.Listeners![0]!.ListenerArn!;
  });
  afterAll(() => elb?.destroy());

  const text = (mode: string) =>
    runbook(mode, `        provider: aws-elbv2\n        elbv2: {listener_arn: "${listenerArn}", ${connection()}}\n`, groups.standby!, groups.primary!);
  const weights = async () => (await readForward(elb, { listener_arn: listenerArn, region: 'us-east-1' })).weights;

  it('a drill walks the whole sequence and changes nothing', { timeout: 180_000 }, async () => {
    const status = await runIt(text('drill'), 'drill');
    expect(status.error).toBeUndefined();
    expect(status.state).toBe('succeeded');
    const shift = shiftOf(status);
    expect(shift.current).toEqual({ [groups.standby!]: 0, [groups.primary!]: 100 });
    expect(shift.preflight?.join('\n')).toMatch(/target groups exist/);
    expect(await weights()).toEqual({ [groups.primary!]: 0, [groups.standby!]: 100, [groups.canary!]: 5 });
  });

  it('a run moves the weight to the primary in steps and leaves the other group as it was', { timeout: 180_000 }, async () => {
    const status = await runIt(text('run'));
    expect(status.error).toBeUndefined();
    expect(status.state).toBe('succeeded');
    const shift = shiftOf(status);
    expect(shift.sets.map((s) => s.weights[groups.primary!])).toEqual([50, 100]);
    expect(await weights()).toEqual({ [groups.primary!]: 100, [groups.standby!]: 0, [groups.canary!]: 5 });
  });
});

describe('traffic.shift on Route 53 weighted records (moto)', () => {
  let r53: Route53Client;
  let zoneId = '';
  const name = 'api.inference.test.';

  beforeAll(async () => {
    r53 = new Route53Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials });
    const zone = await r53.send(new CreateHostedZoneCommand({ Name: 'inference.test.', CallerReference: `shift-${Date.now()}` }));
    zoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
    const record = (id: string, ip: string, weight: number) => ({
      Action: 'CREATE' as const,
      ResourceRecordSet: { Name: name, Type: 'A' as const, SetIdentifier: id, Weight: weight, TTL: 30, ResourceRecords: [{ Value: ip }] },
    });
    await r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Changes: [record('primary', '10.0.0.1', 0), record('standby', '10.0.1.1', 100)] },
      }),
    );
  });
  afterAll(() => r53?.destroy());

  const weights = async () => {
    const listed = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    return Object.fromEntries((listed.ResourceRecordSets ?? []).filter((r) => r.SetIdentifier).map((r) => [r.SetIdentifier!, r.Weight]));
  };
  const text = (mode: string) =>
    runbook(mode, `        provider: route53\n        route53: {zone: inference.test., name: ${name}, type: A, ${connection()}}\n`, 'standby', 'primary');

  it('a run moves the weight record by record and the values stay', { timeout: 180_000 }, async () => {
    const status = await runIt(text('run'));
    expect(status.error).toBeUndefined();
    expect(status.state).toBe('succeeded');
    const shift = shiftOf(status);
    expect(shift.previous).toEqual({ standby: 100, primary: 0 });
    expect(shift.sets.map((s) => s.weights)).toEqual([
      { standby: 50, primary: 50 },
      { standby: 0, primary: 100 },
    ]);
    expect(await weights()).toEqual({ primary: 100, standby: 0 });
    const listed = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    expect(listed.ResourceRecordSets!.find((r) => r.SetIdentifier === 'primary')!.ResourceRecords).toEqual([{ Value: '10.0.0.1' }]);
  });
});
