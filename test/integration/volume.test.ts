// volume.snapshot/volume.restore, prune and backup.verify of EBS points against moto's EC2 API: tags, copies, attach, retries, faults.
import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPLEMENTATIONS } from '../../activities/index.ts';
import { openRestorePoints } from '../../activities/restore-points/index.ts';
import { stepRunner, type RunOptions } from '../helpers/activity.ts';
import { volumeRestoreImpl } from '../../activities/volume/restore.ts';
import { volumeSnapshotImpl } from '../../activities/volume/snapshot.ts';
import { compile } from '../../compiler/compile.ts';
import { startMoto, type MotoServer } from '../../stack/moto.ts';
import { failureOf as failed } from '../helpers/failure.ts';

const SECRET_KEY = 'volume-test-Secret/Key+7f3a9c';
const implOf = (name: string) => IMPLEMENTATIONS.find((i) => i.spec.name === name)!;
const verify = implOf('backup.verify');
const prune = implOf('restore_points.prune');

let moto: MotoServer;
let dir: string;
let storage: string;
let ordersVolumes: string[];
const sizes: Record<string, number> = {};
let instanceId: string;
const outputs: string[] = [];

/** An HTTP proxy in front of moto that can refuse connections, as an endpoint does while it is down; moto itself keeps its state. */
let proxy: Server;
let proxyUrl: string;
let refusing = false;
let refuseAfter: string | undefined;
function startProxy(target: string): Promise<void> {
  const { hostname, port } = new URL(target);
  proxy = createServer((req, res) => {
    if (refusing) return void req.socket.destroy();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const upstream = request({ hostname, port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
        if (refuseAfter && body.toString().includes(`Action=${refuseAfter}`)) refusing = true;
      });
      upstream.end(body);
    });
  });
  return new Promise((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
}

const ec2 = (region = 'us-east-1') => new EC2Client({ region, endpoint: moto.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const keys = () => ({ endpoint: moto.endpoint, access_key: { $secret: 'aws_key' }, secret_key: { $secret: 'aws_secret' } });
const access = (region: string, endpoint = moto.endpoint) => ({ ...keys(), region, endpoint });

const { run } = stepRunner({
  runbook: 'nightly-volumes',
  step: 'snapshot-disks',
  with: () => ({ storage: { url: storage } }),
  secrets: { aws_key: { env: 'VOLUME_TEST_KEY' }, aws_secret: { env: 'VOLUME_TEST_SECRET' } },
  onResult: (result) => outputs.push(JSON.stringify(result)),
});
/** Every failure's text is kept: the secrets test reads them all. */
const failureOf = (promise: Promise<unknown>) => failed(promise, (f) => outputs.push(JSON.stringify({ message: f.message, details: f.details })));

const points = () => openRestorePoints({ url: storage, region: 'us-east-1', force_path_style: true });
async function snapshotsTagged(region: string, tags: Record<string, string>) {
  const Filters = Object.entries(tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] }));
  return (await ec2(region).send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters }))).Snapshots ?? [];
}
async function volume(size: number, tags: Record<string, string>, zone = 'us-east-1a') {
  const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  const out = await ec2().send(new CreateVolumeCommand({ Size: size, AvailabilityZone: zone, TagSpecifications: [{ ResourceType: 'volume', Tags }] }));
  sizes[out.VolumeId!] = size;
  return out.VolumeId!;
}
const snapshotOrders = (extra: Record<string, unknown> = {}, options: RunOptions = {}) =>
  run(volumeSnapshotImpl, { ec2: access('us-east-1'), service: 'orders', tags: { app: 'orders' }, ...extra }, options);

beforeAll(async () => {
  moto = await startMoto({ log: (line) => console.log(`[moto] ${line}`) });
  await startProxy(moto.endpoint);
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'rebound-volume-test-'));
  storage = `file://${join(dir, 'store')}`;
  process.env.VOLUME_TEST_KEY = 'AKIAVOLUMETEST000001';
  process.env.VOLUME_TEST_SECRET = SECRET_KEY;
  ordersVolumes = [await volume(8, { app: 'orders', role: 'data' }), await volume(20, { app: 'orders', role: 'wal' })].sort();
  await volume(5, { app: 'billing' });
  const image = (await ec2().send(new DescribeImagesCommand({}))).Images![0]!.ImageId!;
  const reservation = await ec2().send(
    new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', Placement: { AvailabilityZone: 'us-east-1a' } }),
  );
  instanceId = reservation.Instances![0]!.InstanceId!;
}, 300_000); // the first run installs moto[server] from PyPI

afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('volume.snapshot on moto EC2', () => {
  it('snapshots the volumes a tag selector finds into one point, copies each to the DR region, and tags them for retries', { timeout: 60_000 }, async () => {
    const snap = await snapshotOrders({ copy_to: { region: 'us-west-2' } });
    const id = snap.outputs.restore_point_id as string;
    const volumes = snap.outputs.volumes as { volume_id: string; size_gib: number; snapshots: Record<string, string> }[];
    expect(volumes.map((v) => [v.volume_id, v.size_gib])).toEqual(ordersVolumes.map((v) => [v, sizes[v]]));
    for (const v of volumes) expect(Object.keys(v.snapshots).sort()).toEqual(['us-east-1', 'us-west-2']);

    const east = await snapshotsTagged('us-east-1', { 'rebound:restore-point': id });
    expect(east.map((s) => s.SnapshotId).sort()).toEqual(volumes.map((v) => v.snapshots['us-east-1']).sort());
    expect(east.every((s) => s.State === 'completed' && s.Description?.includes(id))).toBe(true);
    expect(east[0]!.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'rebound:service', Value: 'orders' },
        { Key: 'rebound:step', Value: 'snapshot-disks' },
      ]),
    );
    const west = await snapshotsTagged('us-west-2', { 'rebound:restore-point': id });
    expect(west.map((s) => s.SnapshotId).sort()).toEqual(volumes.map((v) => v.snapshots['us-west-2']).sort());

    const point = await points().find(id);
    expect(point).toMatchObject({ kind: 'ebs-volume', object: '', objects: [], source: { region: 'us-east-1', selector: { app: 'orders' } } });
    expect(point.sha256).toBe(createHash('sha256').update(JSON.stringify(point.external)).digest('hex'));
    expect(point.external![0]).toMatchObject({ availability_zone: 'us-east-1a', region: 'us-east-1', encrypted: false });
  });

  it('a second run of the same step returns the same point and cuts no second snapshot', { timeout: 60_000 }, async () => {
    const first = await snapshotOrders({}, { run_id: 'run-twice' });
    const second = await snapshotOrders({}, { run_id: 'run-twice', attempt: 2 });
    expect(second.outputs).toEqual(first.outputs);
    expect(await snapshotsTagged('us-east-1', { 'rebound:run': 'run-twice' })).toHaveLength(2);
  });

  it('the endpoint going away right after CreateSnapshot fails with a retry verdict; the retry adopts the snapshot, one per volume', async () => {
    refuseAfter = 'CreateSnapshot';
    const w = { ec2: access('us-east-1', proxyUrl), service: 'orders-fault', volume_ids: ordersVolumes };
    try {
      const failure = await failureOf(run(volumeSnapshotImpl, w, { run_id: 'run-fault' }));
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toMatch(/^ec2: step "snapshot-disks": DescribeSnapshots snap-\w+ in us-east-1: .*will retry \(attempt 1 of 3\)$/);
      expect(await points().scan('orders-fault')).toEqual([]);
    } finally {
      refusing = false;
      refuseAfter = undefined;
    }
    expect(await snapshotsTagged('us-east-1', { 'rebound:run': 'run-fault' })).toHaveLength(1);
    const retry = await run(volumeSnapshotImpl, w, { run_id: 'run-fault', attempt: 2 });
    const taken = await snapshotsTagged('us-east-1', { 'rebound:run': 'run-fault' });
    expect(taken).toHaveLength(2);
    const volumes = retry.outputs.volumes as { snapshots: Record<string, string> }[];
    expect(volumes.map((v) => v.snapshots['us-east-1']).sort()).toEqual(taken.map((s) => s.SnapshotId).sort());
    expect(await points().scan('orders-fault')).toHaveLength(1);
  });

  it('a volume id that is not in the region fails without retry and says which; so does a selector that matches nothing', async () => {
    const elsewhere = await failureOf(run(volumeSnapshotImpl, { ec2: access('eu-west-1'), service: 'orders-x', volume_ids: [ordersVolumes[0]] }));
    expect(elsewhere.nonRetryable).toBe(true);
    expect(elsewhere.message).toContain(`ec2: step "snapshot-disks": DescribeVolumes ${ordersVolumes[0]} in region eu-west-1: InvalidVolume.NotFound`);
    expect(elsewhere.message).toContain('(check the id and the region)');
    const none = await failureOf(run(volumeSnapshotImpl, { ec2: access('us-east-1'), service: 'orders-x', tags: { app: 'nothing' } }));
    expect(none.nonRetryable).toBe(true);
    expect(none.message).toContain('no EBS volume in region us-east-1 carries the tags app=nothing');
    const bad = await failureOf(run(volumeSnapshotImpl, { ec2: access('Europe'), service: 'orders-x', tags: { app: 'orders' } }));
    expect(bad.message).toContain('with: ec2.region: an AWS region such as eu-west-1');
    expect(await points().scan('orders-x')).toEqual([]);
  });
});

const drillRunbook = (drill: string) => `apiVersion: rebound/v1
kind: Runbook
metadata: {name: disks}
spec:
  steps:
    - id: restore
      uses: volume.restore
${drill}      with: {restore_point: p1, ec2: {region: eu-west-1}, availability_zone: eu-west-1a, instance_id: i-0123456789abcdef0, device: /dev/sdf}
`;

describe('volume.restore on moto EC2', () => {
  let pointId: string;
  beforeAll(async () => {
    pointId = (await snapshotOrders({ copy_to: { region: 'us-west-2' } }, { run_id: 'run-for-restore' })).outputs.restore_point_id as string;
  }, 60_000);

  it('restores every volume from the DR copy in a us-west-2 zone, available and tagged', async () => {
    const out = await run(
      volumeRestoreImpl,
      { restore_point: pointId, ec2: access('us-west-2'), availability_zone: 'us-west-2b', tags: { env: 'dr' } },
      { step: 'restore' },
    );
    const restored = out.outputs.volumes as { source_volume_id: string; snapshot_id: string; volume_id: string }[];
    const point = await points().find(pointId);
    const copies = (point.external as { snapshots: Record<string, string> }[]).map((r) => r.snapshots['us-west-2']);
    expect(restored.map((v) => v.snapshot_id).sort()).toEqual(copies.sort());
    const found = await ec2('us-west-2').send(new DescribeVolumesCommand({ VolumeIds: restored.map((v) => v.volume_id) }));
    for (const v of found.Volumes!) {
      expect(v).toMatchObject({ State: 'available', AvailabilityZone: 'us-west-2b' });
      expect(v.Tags).toEqual(
        expect.arrayContaining([
          { Key: 'env', Value: 'dr' },
          { Key: 'rebound:restore-point', Value: pointId },
        ]),
      );
    }
    expect(found.Volumes!.map((v) => v.Size).sort((a, b) => a! - b!)).toEqual([8, 20]);
  });

  it('restores one volume as gp3 in us-east-1a and attaches it to an instance; a retry adopts it instead of creating another', async () => {
    const w = {
      restore_point: pointId,
      ec2: access('us-east-1'),
      availability_zone: 'us-east-1a',
      volumes: [ordersVolumes[1]],
      volume_type: 'gp3',
      iops: 3000,
      instance_id: instanceId,
      device: '/dev/sdf',
    };
    const first = await run(volumeRestoreImpl, w, { run_id: 'run-attach', step: 'restore' });
    const again = await run(volumeRestoreImpl, w, { run_id: 'run-attach', step: 'restore', attempt: 2 });
    expect(again.outputs.volumes).toEqual(first.outputs.volumes);
    const [restored] = first.outputs.volumes as { volume_id: string; attached: unknown }[];
    expect(restored!.attached).toEqual({ instance_id: instanceId, device: '/dev/sdf' });
    const v = (await ec2().send(new DescribeVolumesCommand({ VolumeIds: [restored!.volume_id] }))).Volumes![0]!;
    expect(v).toMatchObject({ VolumeType: 'gp3', Size: sizes[ordersVolumes[1]!], State: 'in-use' });
    expect(v.Attachments).toEqual([expect.objectContaining({ InstanceId: instanceId, Device: '/dev/sdf', State: 'attached' })]);
    const mine = await ec2().send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:rebound:run', Values: ['run-attach'] }] }));
    expect(mine.Volumes).toHaveLength(1);
  });

  it('a drill must replace instance_id (null: create the volume, attach nothing); without it the runbook does not compile', async () => {
    const refused = compile(drillRunbook(''), { file: 'disks.yaml', mode: 'drill' });
    expect(refused.errors.map((e) => e.message).join('\n')).toContain('(instance_id)');
    expect(compile(drillRunbook('      drill: {with: {instance_id: null}}\n'), { file: 'disks.yaml', mode: 'drill' }).errors).toEqual([]);
    // What the drill then runs: the production device is still named, and nothing is attached.
    const w = {
      restore_point: pointId,
      ec2: access('us-east-1'),
      availability_zone: 'us-east-1a',
      volumes: [ordersVolumes[0]],
      instance_id: null,
      device: '/dev/sdf',
    };
    const out = await run(volumeRestoreImpl, w, { step: 'restore-drill' });
    const [restored] = out.outputs.volumes as { volume_id: string; attached: unknown }[];
    expect(restored!.attached).toBeNull();
    expect((await ec2().send(new DescribeVolumesCommand({ VolumeIds: [restored!.volume_id] }))).Volumes![0]).toMatchObject({
      State: 'available',
      Attachments: [],
    });
  });

  it('a region without a snapshot of the point, or a volume the point lacks, fails without retry and says what to do', async () => {
    const region = await failureOf(run(volumeRestoreImpl, { restore_point: pointId, ec2: access('eu-west-1'), availability_zone: 'eu-west-1a' }));
    expect(region.nonRetryable).toBe(true);
    expect(region.message).toContain('none in eu-west-1: restore in one of those regions, or snapshot with copy_to: {region: eu-west-1}');
    const lacking = await failureOf(
      run(volumeRestoreImpl, { restore_point: pointId, ec2: access('us-east-1'), availability_zone: 'us-east-1a', volumes: ['vol-0000000000000dead'] }),
    );
    expect(lacking.nonRetryable).toBe(true);
    expect(lacking.message).toContain('holds no snapshot of vol-0000000000000dead');
    const both = await failureOf(
      run(volumeRestoreImpl, {
        restore_point: pointId,
        ec2: access('us-east-1'),
        availability_zone: 'us-east-1a',
        instance_id: instanceId,
        device: '/dev/sdg',
      }),
    );
    expect(both.message).toContain('instance_id attaches one volume, and this step restores 2');
  });
});

describe('backup.verify and restore_points.prune of EBS points', () => {
  it('verify passes while every snapshot is there, and fails the point when a copy is deleted behind its back', { timeout: 60_000 }, async () => {
    const snap = await snapshotOrders({ service: 'orders-verify', copy_to: { region: 'us-west-2' } });
    const id = snap.outputs.restore_point_id as string;
    const ok = await run(verify, { restore_point: id, ec2: keys() });
    expect(ok.outputs).toMatchObject({
      status: 'verified',
      checks: [
        { check: 'sha256', ok: true },
        { check: 'snapshots', ok: true, detail: '4 snapshots completed with the recorded sizes' },
      ],
    });
    const copy = (snap.outputs.volumes as { snapshots: Record<string, string> }[])[0]!.snapshots['us-west-2']!;
    await ec2('us-west-2').send(new DeleteSnapshotCommand({ SnapshotId: copy }));
    const failure = await failureOf(run(verify, { restore_point: id, ec2: keys() }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`ebs-volume: step "snapshot-disks": restore point ${id} of orders-verify failed verification: snapshots: ${copy}`);
    expect(failure.message).toContain('in us-west-2 does not exist');
    expect((await points().find(id)).status).toBe('failed');
  });

  it('prune deletes the snapshots of the points it drops, in every region, and keeps the rest', { timeout: 60_000 }, async () => {
    const older = (await snapshotOrders({ service: 'orders-prune', copy_to: { region: 'us-west-2' } }, { run_id: 'run-old' })).outputs
      .restore_point_id as string;
    const newer = (await snapshotOrders({ service: 'orders-prune' }, { run_id: 'run-new' })).outputs.restore_point_id as string;
    const out = await run(prune, { service: 'orders-prune', keep_last: 1, ec2: keys() });
    expect(out.outputs).toMatchObject({ deleted: [older], kept: [newer] });
    expect(await snapshotsTagged('us-east-1', { 'rebound:restore-point': older })).toEqual([]);
    expect(await snapshotsTagged('us-west-2', { 'rebound:restore-point': older })).toEqual([]);
    expect(await snapshotsTagged('us-east-1', { 'rebound:restore-point': newer })).toHaveLength(2);
    expect((await points().scan('orders-prune')).map((p) => p.id)).toEqual([newer]);
  });

  it('the secret access key appears in no output and no error', () => {
    expect(outputs.length).toBeGreaterThan(10);
    for (const text of outputs) expect(text).not.toContain(SECRET_KEY);
    expect(JSON.stringify(outputs)).not.toContain('AKIAVOLUMETEST000001');
  });
});
