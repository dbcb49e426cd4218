// volume.snapshot: EBS snapshots of a service's volumes (and their DR-region copies), waited until completed, recorded as one restore point.
import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  DeleteSnapshotCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  type EC2Client,
  type Snapshot,
  type Volume,
} from '@aws-sdk/client-ec2';
import type { z } from 'zod';
import { volumeSnapshot } from '../../contract/actions/volume.ts';
import { parseDuration } from '../../contract/duration.ts';
import { commitExternal, committedOutput, openStepPoint, type RestorePoint } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { call, ec2Client, TAG, tagFilters, tagList, VOLUME_KIND, waitUntil } from './ec2.ts';

type Input = z.output<typeof volumeSnapshot.input>;

/** What a point records about each volume: enough to recreate it in any region holding a snapshot of it. */
export interface VolumeRecord {
  volume_id: string;
  region: string;
  availability_zone: string;
  size_gib: number;
  volume_type: string | null;
  iops: number | null;
  throughput: number | null;
  encrypted: boolean;
  /** region → snapshot id: the source region's snapshot and each copy. */
  snapshots: Record<string, string>;
  [key: string]: unknown;
}

/** Everything one step's work needs, so helpers stay small. */
interface Job {
  input: Input;
  ctx: ActionContext;
  pointId: string;
  deadline: number;
}

async function findVolumes(client: EC2Client, input: Input): Promise<Volume[]> {
  const where = `region ${input.ec2.region}`;
  if (input.volume_ids) {
    const out = await call(`DescribeVolumes ${input.volume_ids.join(', ')} in ${where}`, () =>
      client.send(new DescribeVolumesCommand({ VolumeIds: input.volume_ids })),
    );
    return out.Volumes ?? [];
  }
  const volumes: Volume[] = [];
  let token: string | undefined;
  do {
    const out = await call(`DescribeVolumes by tags in ${where}`, () =>
      client.send(new DescribeVolumesCommand({ Filters: tagFilters(input.tags!), NextToken: token })),
    );
    volumes.push(...(out.Volumes ?? []));
    token = out.NextToken;
  } while (token);
  const selector = Object.entries(input.tags!)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  if (!volumes.length) throw new ActionError('not_found', `no EBS volume in ${where} carries the tags ${selector}`, { retryable: false });
  return volumes.sort((a, b) => a.VolumeId!.localeCompare(b.VolumeId!));
}

/** The snapshot an earlier attempt made for this point and volume; a failed one is deleted so a new one is cut. */
async function adoptable(client: EC2Client, region: string, pointId: string, volumeId: string): Promise<Snapshot | undefined> {
  const filters = tagFilters({ [TAG.point]: pointId, [TAG.volume]: volumeId });
  const out = await call(`DescribeSnapshots of point ${pointId} in ${region}`, () =>
    client.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: filters })),
  );
  for (const failed of (out.Snapshots ?? []).filter((s) => s.State === 'error')) {
    await call(`DeleteSnapshot ${failed.SnapshotId} (failed) in ${region}`, () => client.send(new DeleteSnapshotCommand({ SnapshotId: failed.SnapshotId })));
  }
  return out.Snapshots?.find((s) => s.State !== 'error');
}

/** Waits until the snapshot is completed, heartbeating EC2's Progress; a snapshot in error fails the attempt (the retry cuts a new one). */
async function completed(client: EC2Client, region: string, snapshotId: string, volumeId: string, job: Job): Promise<Snapshot> {
  const what = `snapshot ${snapshotId} of ${volumeId} in ${region}`;
  const poll = async () => {
    const out = await call(`DescribeSnapshots ${snapshotId} in ${region}`, () => client.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] })));
    const snapshot = out.Snapshots?.[0];
    if (!snapshot) throw new ActionError('not_found', `${what} disappeared while being taken`, { retryable: true });
    job.ctx.heartbeat({ phase: 'snapshotting', region, volume: volumeId, snapshot: snapshotId, state: snapshot.State, progress: snapshot.Progress });
    if (snapshot.State === 'error')
      throw new ActionError('backend_error', `${what} failed in EC2: ${snapshot.StateMessage ?? 'no message'}`, { retryable: true });
    return snapshot;
  };
  return waitUntil(what, poll, (s) => s.State === 'completed', { deadline: job.deadline, timeout: job.input.timeout, ctx: job.ctx });
}

function tagsFor(job: Job, volumeId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [TAG.point]: job.pointId, [TAG.volume]: volumeId, [TAG.run]: job.ctx.runId, [TAG.step]: job.ctx.step, [TAG.service]: job.input.service, ...extra };
}

async function snapshotVolume(client: EC2Client, volume: Volume, job: Job): Promise<VolumeRecord> {
  const { region } = job.input.ec2;
  const volumeId = volume.VolumeId!;
  let snapshot = await adoptable(client, region, job.pointId, volumeId);
  if (snapshot) job.ctx.log('info', `adopting ${snapshot.SnapshotId} of ${volumeId}, cut by an earlier attempt`);
  snapshot ??= await call(`CreateSnapshot of ${volumeId} in ${region}`, () =>
    client.send(
      new CreateSnapshotCommand({
        VolumeId: volumeId,
        Description: `rebound ${job.input.service} restore point ${job.pointId} (run ${job.ctx.runId}, step ${job.ctx.step})`,
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: tagList(tagsFor(job, volumeId)) }],
      }),
    ),
  );
  await completed(client, region, snapshot.SnapshotId!, volumeId, job);
  return {
    volume_id: volumeId,
    region,
    availability_zone: volume.AvailabilityZone ?? '',
    size_gib: volume.Size ?? 0,
    volume_type: volume.VolumeType ?? null,
    iops: volume.Iops ?? null,
    throughput: volume.Throughput ?? null,
    encrypted: volume.Encrypted ?? false,
    snapshots: { [region]: snapshot.SnapshotId! },
  };
}

/** The record's snapshot copied to the DR region (adopting a copy an earlier attempt started), waited until completed. */
async function copyVolume(record: VolumeRecord, job: Job): Promise<void> {
  const copyTo = job.input.copy_to!;
  const dest = ec2Client(job.input.ec2, copyTo.region);
  const source = record.snapshots[record.region]!;
  let copy = await adoptable(dest, copyTo.region, job.pointId, record.volume_id);
  copy ??= await call(`CopySnapshot ${source} from ${record.region} to ${copyTo.region}`, () =>
    dest.send(
      new CopySnapshotCommand({
        SourceRegion: record.region,
        SourceSnapshotId: source,
        Description: `rebound ${job.input.service} restore point ${job.pointId}: copy of ${source} from ${record.region}`,
        ...(copyTo.kms_key_id ? { Encrypted: true, KmsKeyId: copyTo.kms_key_id } : {}),
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: tagList(tagsFor(job, record.volume_id, { 'rebound:copy-of': source })) }],
      }),
    ),
  );
  await completed(dest, copyTo.region, copy.SnapshotId!, record.volume_id, job);
  record.snapshots[copyTo.region] = copy.SnapshotId!;
}

export const volumeSnapshotImpl = defineImpl({
  spec: volumeSnapshot,
  async run(input, ctx) {
    const { id: pointId, points, draft, committed } = await openStepPoint(input.storage, input.service, VOLUME_KIND, ctx);
    if (committed) return outputOf(committed, points.keyOf(committed));
    const client = ec2Client(input.ec2, input.ec2.region);
    const job: Job = { input, ctx, pointId, deadline: Date.now() + parseDuration(input.timeout)! };
    const started = new Date().toISOString();
    const records: VolumeRecord[] = [];
    for (const volume of await findVolumes(client, input)) records.push(await snapshotVolume(client, volume, job));
    if (input.copy_to) for (const record of records) await copyVolume(record, job);
    const point = await commitExternal(
      draft,
      { external: records, size: records.reduce((sum, r) => sum + r.size_gib * 2 ** 30, 0), started_at: started, input, ctx },
      {
        source: {
          region: input.ec2.region,
          ...(input.ec2.endpoint ? { endpoint: input.ec2.endpoint } : {}),
          volumes: records.map((r) => r.volume_id),
          ...(input.tags ? { selector: input.tags } : {}),
        },
        tool: { name: 'rebound (EBS CreateSnapshot/CopySnapshot, @aws-sdk/client-ec2)', version: 'ec2/2016-11-15' },
        server_version: 'unknown',
      },
    );
    ctx.log(
      'info',
      `restore point ${pointId} of ${input.service}: ${records.length} EBS snapshots completed${input.copy_to ? `, copied to ${input.copy_to.region}` : ''}`,
    );
    return outputOf(point, points.keyOf(point));
  },
});

function outputOf(point: RestorePoint, object: string) {
  const records = (point.external ?? []) as VolumeRecord[];
  return {
    ...committedOutput(point, object),
    volumes: records.map((r) => ({ volume_id: r.volume_id, size_gib: r.size_gib, availability_zone: r.availability_zone, snapshots: r.snapshots })),
  };
}
