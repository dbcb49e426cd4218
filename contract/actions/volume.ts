// The EBS volume actions' contracts: snapshots of volumes (by id or tag) recorded as a restore point, and new volumes restored from it.
import { z } from 'zod';
import { defineAction, STORAGE_SECRETS } from '../action.ts';
import { DURATION_PATTERN } from '../duration.ts';
import { EC2_SECRETS, Ec2AccessSchema, Ec2Schema, Region } from '../ec2.ts';
import { StorageSchema } from '../storage.ts';
import { backupPointFields, committedPointOutput, restoredPointOutput, RestorePointRefSchema, ServiceSchema } from './points.ts';
import { defineIntegrationSpec } from '../integration.ts';

const VolumeId = z.string().regex(/^vol-[0-9a-f]{8,17}$/, 'an EBS volume id such as vol-0123456789abcdef0');
const Duration = (fallback: string) => z.string().regex(DURATION_PATTERN, 'a duration such as 30m').default(fallback);

/** One volume as a point records it: where its snapshots are (region → snapshot id) and what a restore needs. */
const VolumeRecordSchema = z.object({
  volume_id: z.string(),
  size_gib: z.number(),
  availability_zone: z.string(),
  snapshots: z.record(z.string(), z.string()).describe('region → snapshot id'),
});

/**
 * One restore point per step listing every volume it snapshotted: a service's volumes
 * (data, logs) are restored together, and retention keeps or drops them together.
 */
export const volumeSnapshot = defineAction({
  name: 'volume.snapshot',
  summary: 'Snapshot EBS volumes (by id or tags), wait until completed, optionally copy to a DR region; one restore point lists them all',
  kind: 'activity',
  backend: 'ec2',
  impact: 'write',
  secret_inputs: [...EC2_SECRETS, ...STORAGE_SECRETS],
  drill_targets: ['storage'],
  input: z
    .strictObject({
      ec2: Ec2Schema,
      service: ServiceSchema,
      volume_ids: z.array(VolumeId).min(1).optional(),
      tags: z.record(z.string().min(1), z.string()).optional().describe('or: every volume carrying all these tags, e.g. {app: orders}'),
      copy_to: z
        .strictObject({ region: Region, kms_key_id: z.string().min(1).optional().describe('encrypt the copy with this key (default: the source key)') })
        .optional()
        .describe('copy each snapshot to a DR region and wait for the copy too'),
      timeout: Duration('2h').describe('how long to wait for all snapshots (and copies) to complete'),
      ...backupPointFields,
    })
    .superRefine((i, ctx) => {
      if (!i.volume_ids === !i.tags)
        ctx.addIssue({ code: 'custom', path: [i.volume_ids ? 'volume_ids' : 'tags'], message: 'give exactly one of volume_ids or tags' });
      if (i.tags && !Object.keys(i.tags).length) ctx.addIssue({ code: 'custom', path: ['tags'], message: 'name at least one tag' });
      if (i.copy_to?.region === i.ec2.region)
        ctx.addIssue({ code: 'custom', path: ['copy_to', 'region'], message: 'copy_to names the region the snapshots are in' });
    }),
  output: z.object({ ...committedPointOutput, volumes: z.array(VolumeRecordSchema) }),
});

/**
 * New volumes from a point's snapshots, in the region `ec2.region` (its copy there when the
 * point was copied) and one availability zone; optionally attached to an instance. A drill
 * must replace `instance_id` — with null (create only) or a scratch instance — so it never
 * attaches to a production machine.
 */
export const volumeRestore = defineAction({
  name: 'volume.restore',
  summary: "Create EBS volumes from a point's snapshots (the region's copy) in an availability zone; optionally attach one to an instance",
  kind: 'activity',
  backend: 'ec2',
  impact: 'write',
  secret_inputs: [...EC2_SECRETS, ...STORAGE_SECRETS],
  drill_targets: ['instance_id'],
  // New volumes replace nothing; attached, one is a disk of a production machine.
  restores_over: (input) => (input.instance_id ? `instance ${String(input.instance_id)} (attached as ${String(input.device)})` : undefined),
  input: z
    .strictObject({
      restore_point: RestorePointRefSchema,
      ec2: Ec2Schema,
      availability_zone: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+[a-z]$/, 'an availability zone such as eu-west-1a'),
      volumes: z.array(VolumeId).min(1).optional().describe("restore only these of the point's source volumes"),
      volume_type: z.enum(['gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1', 'standard']).optional().describe('default: EC2 default (gp2)'),
      iops: z.number().int().positive().optional(),
      throughput: z.number().int().positive().optional().describe('gp3 only, MiB/s'),
      tags: z.record(z.string().min(1), z.string()).default({}).describe('put on the new volumes besides the rebound:* tags'),
      instance_id: z
        .string()
        .regex(/^i-[0-9a-f]{8,17}$/, 'an instance id such as i-0123456789abcdef0')
        .nullable()
        .default(null)
        .describe('attach the new volume to this instance (same availability zone); null: do not attach'),
      device: z
        .string()
        .regex(/^\/dev\/[a-z0-9]+$|^xvd[a-z]+$/, 'a device name such as /dev/sdf')
        .optional(),
      timeout: Duration('30m').describe('how long to wait for the volumes to be available (and attached)'),
      storage: StorageSchema.optional(),
    })
    .superRefine((i, ctx) => {
      // A device without an instance is allowed: a drill overrides only instance_id (null) to create without attaching.
      if (i.instance_id && !i.device) ctx.addIssue({ code: 'custom', path: ['device'], message: 'instance_id needs the device to attach as, e.g. /dev/sdf' });
      if (i.iops && i.volume_type && !['gp3', 'io1', 'io2'].includes(i.volume_type))
        ctx.addIssue({ code: 'custom', path: ['iops'], message: `volume_type ${i.volume_type} takes no iops` });
    }),
  output: z.object({
    ...restoredPointOutput,
    region: z.string(),
    availability_zone: z.string(),
    volumes: z.array(
      z.object({
        source_volume_id: z.string(),
        snapshot_id: z.string(),
        volume_id: z.string(),
        attached: z.object({ instance_id: z.string(), device: z.string() }).nullable(),
      }),
    ),
  }),
});

/** Points whose data stays in EC2 (EBS snapshots) are reached with these; the regions come from the point. */
const ec2Access = Ec2AccessSchema.optional().describe("EBS volume points: how to reach EC2 (absent: the worker's AWS credentials)");

/** The EBS volume integration: its actions, and its kind of point (EBS snapshots kept in EC2) with how verify and prune reach EC2. */
export const spec = defineIntegrationSpec({
  name: 'volume',
  actions: [volumeSnapshot, volumeRestore],
  kinds: {
    'ebs-volume': { verify: { ec2: ec2Access }, verify_secrets: EC2_SECRETS, prune: { ec2: ec2Access }, prune_secrets: EC2_SECRETS },
  },
});
