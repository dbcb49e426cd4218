// volume.restore: new EBS volumes from a point's snapshots (the copy in the step's region), waited until available; optionally attached.
import { AttachVolumeCommand, CreateVolumeCommand, DescribeVolumesCommand, type EC2Client, type Volume, type VolumeType } from '@aws-sdk/client-ec2';
import type { z } from 'zod';
import { volumeRestore } from '../../contract/actions/volume.ts';
import { parseDuration } from '../../contract/duration.ts';
import { openRestorePoints, restoredOutput, type RestorePoint } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { call, ec2Client, TAG, tagFilters, tagList, VOLUME_KIND, waitUntil } from './ec2.ts';
import type { VolumeRecord } from './snapshot.ts';

type Input = z.output<typeof volumeRestore.input>;

interface Job {
  input: Input;
  ctx: ActionContext;
  client: EC2Client;
  point: RestorePoint;
  deadline: number;
}

/** The point's volumes this step restores, each with its snapshot in the step's region. */
function chosen(point: RestorePoint, input: Input): { record: VolumeRecord; snapshot: string }[] {
  if (point.kind !== VOLUME_KIND)
    throw new ActionError('invalid_input', `restore point ${point.id} is a ${point.kind} point, not an EBS volume point (${VOLUME_KIND})`, {
      retryable: false,
    });
  const records = (point.external ?? []) as VolumeRecord[];
  const unknown = (input.volumes ?? []).filter((id) => !records.some((r) => r.volume_id === id));
  if (unknown.length)
    throw new ActionError(
      'not_found',
      `restore point ${point.id} holds no snapshot of ${unknown.join(', ')}; it has ${records.map((r) => r.volume_id).join(', ')}`,
      {
        retryable: false,
      },
    );
  const wanted = records.filter((r) => !input.volumes || input.volumes.includes(r.volume_id));
  const region = input.ec2.region;
  const missing = wanted.filter((r) => !r.snapshots[region]);
  if (missing.length) {
    const regions = [...new Set(missing.flatMap((r) => Object.keys(r.snapshots)))].join(', ');
    throw new ActionError(
      'not_found',
      `restore point ${point.id} has snapshots of ${missing.map((r) => r.volume_id).join(', ')} in ${regions}, none in ${region}: restore in one of those regions, or snapshot with copy_to: {region: ${region}}`,
      { retryable: false },
    );
  }
  if (input.instance_id && wanted.length !== 1)
    throw new ActionError('invalid_input', `instance_id attaches one volume, and this step restores ${wanted.length}: name the one to attach in volumes`, {
      retryable: false,
    });
  return wanted.map((record) => ({ record, snapshot: record.snapshots[region]! }));
}

/** A volume an earlier attempt of this step created from the same source (tagged with run, step and source). */
async function adoptable(job: Job, sourceId: string): Promise<Volume | undefined> {
  const filters = tagFilters({ [TAG.run]: job.ctx.runId, [TAG.step]: job.ctx.step, [TAG.source]: sourceId });
  const out = await call(`DescribeVolumes restored from ${sourceId}`, () => job.client.send(new DescribeVolumesCommand({ Filters: filters })));
  return out.Volumes?.find((v) => v.State !== 'deleting' && v.State !== 'deleted' && v.State !== 'error');
}

async function describe(job: Job, volumeId: string): Promise<Volume> {
  const out = await call(`DescribeVolumes ${volumeId}`, () => job.client.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] })));
  const volume = out.Volumes?.[0];
  if (!volume) throw new ActionError('not_found', `volume ${volumeId} disappeared while being restored`, { retryable: true });
  return volume;
}

async function createVolume(job: Job, record: VolumeRecord, snapshot: string): Promise<Volume> {
  const { input, ctx } = job;
  const tags = { ...input.tags, [TAG.run]: ctx.runId, [TAG.step]: ctx.step, [TAG.source]: record.volume_id, [TAG.point]: job.point.id };
  return call(`CreateVolume from ${snapshot} in ${input.availability_zone}`, () =>
    job.client.send(
      new CreateVolumeCommand({
        SnapshotId: snapshot,
        AvailabilityZone: input.availability_zone,
        ...(input.volume_type ? { VolumeType: input.volume_type as VolumeType } : {}),
        ...(input.iops ? { Iops: input.iops } : {}),
        ...(input.throughput ? { Throughput: input.throughput } : {}),
        TagSpecifications: [{ ResourceType: 'volume', Tags: tagList(tags) }],
      }),
    ),
  );
}

async function restoreOne(job: Job, record: VolumeRecord, snapshot: string): Promise<Volume> {
  const found = await adoptable(job, record.volume_id);
  if (found) job.ctx.log('info', `adopting ${found.VolumeId}, restored from ${snapshot} by an earlier attempt`);
  const volume = found ?? (await createVolume(job, record, snapshot));
  const what = `volume ${volume.VolumeId} from ${snapshot}`;
  const poll = async () => {
    const v = await describe(job, volume.VolumeId!);
    job.ctx.heartbeat({ phase: 'creating', volume: v.VolumeId, snapshot, state: v.State });
    if (v.State === 'error') throw new ActionError('backend_error', `${what} went into state error in EC2`, { retryable: false });
    return v;
  };
  const ready = (v: Volume) => v.State === 'available' || v.State === 'in-use';
  return waitUntil(what, poll, ready, { deadline: job.deadline, timeout: job.input.timeout, ctx: job.ctx });
}

/** Attaches unless already attached there (a retry); attached to another instance is someone else's volume now. */
async function attach(job: Job, volume: Volume): Promise<{ instance_id: string; device: string }> {
  const instance = job.input.instance_id!;
  const device = job.input.device!;
  const other = volume.Attachments?.find((a) => a.InstanceId !== instance && a.State !== 'detached');
  if (other) throw new ActionError('conflict', `volume ${volume.VolumeId} is attached to ${other.InstanceId}, not ${instance}`, { retryable: false });
  if (!volume.Attachments?.some((a) => a.InstanceId === instance && a.State !== 'detached')) {
    await call(`AttachVolume ${volume.VolumeId} to ${instance} as ${device}`, () =>
      job.client.send(new AttachVolumeCommand({ VolumeId: volume.VolumeId, InstanceId: instance, Device: device })),
    );
  }
  const poll = async () => {
    const v = await describe(job, volume.VolumeId!);
    job.ctx.heartbeat({ phase: 'attaching', volume: v.VolumeId, instance, state: v.Attachments?.[0]?.State });
    return v;
  };
  const attached = (v: Volume) => !!v.Attachments?.some((a) => a.InstanceId === instance && a.State === 'attached');
  await waitUntil(`attaching ${volume.VolumeId} to ${instance}`, poll, attached, { deadline: job.deadline, timeout: job.input.timeout, ctx: job.ctx });
  return { instance_id: instance, device };
}

export const volumeRestoreImpl = defineImpl({
  spec: volumeRestore,
  async run(input, ctx) {
    const point = await openRestorePoints(input.storage).find(input.restore_point);
    const wanted = chosen(point, input);
    const client = ec2Client(input.ec2, input.ec2.region);
    const job: Job = { input, ctx, client, point, deadline: Date.now() + parseDuration(input.timeout)! };
    const volumes = [];
    for (const { record, snapshot } of wanted) {
      const volume = await restoreOne(job, record, snapshot);
      const attached = input.instance_id ? await attach(job, volume) : null;
      volumes.push({ source_volume_id: record.volume_id, snapshot_id: snapshot, volume_id: volume.VolumeId!, attached });
    }
    ctx.log('info', `restored ${volumes.length} volumes of point ${point.id} in ${input.availability_zone}`);
    return {
      ...restoredOutput(point),
      region: input.ec2.region,
      availability_zone: input.availability_zone,
      volumes,
    };
  },
});
