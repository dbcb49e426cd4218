// What the restore-point domain asks of EBS volume points: backup.verify's check of their snapshots, and prune's deletion of them.
import { DeleteSnapshotCommand, DescribeSnapshotsCommand, type Snapshot } from '@aws-sdk/client-ec2';
import type { PruneHook } from '../restore-points/actions.ts';
import type { CheckResult, TestRestore } from '../restore-points/verify.ts';
import { ActionError } from '../runtime/errors.ts';
import { call, ec2Client, ec2Error } from './ec2.ts';
import type { VolumeRecord } from './snapshot.ts';

const recordsOf = (external: unknown): VolumeRecord[] => (external ?? []) as VolumeRecord[];

/** Region → snapshot id → the volume it was taken of, over every record of a point. */
function byRegion(records: VolumeRecord[]): Map<string, Map<string, VolumeRecord>> {
  const regions = new Map<string, Map<string, VolumeRecord>>();
  for (const record of records)
    for (const [region, id] of Object.entries(record.snapshots)) regions.set(region, (regions.get(region) ?? new Map()).set(id, record));
  return regions;
}

/** Snapshots that do not exist come back absent (EC2 answers a batch with one missing id by failing the batch). */
async function describeEach(client: ReturnType<typeof ec2Client>, region: string, ids: string[]): Promise<Map<string, Snapshot>> {
  const found = new Map<string, Snapshot>();
  for (const id of ids) {
    try {
      const out = await client.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
      if (out.Snapshots?.[0]) found.set(id, out.Snapshots[0]);
    } catch (error) {
      const failure = ec2Error(`DescribeSnapshots ${id} in ${region}`, error);
      if (failure.code !== 'not_found') throw failure;
    }
  }
  return found;
}

function problem(id: string, record: VolumeRecord, region: string, snapshot: Snapshot | undefined): string | undefined {
  const of = `${id} (${record.volume_id}) in ${region}`;
  if (!snapshot) return `${of} does not exist`;
  if (snapshot.State !== 'completed') return `${of} is ${snapshot.State}`;
  if (snapshot.VolumeSize !== record.size_gib) return `${of} is ${snapshot.VolumeSize} GiB; the point recorded ${record.size_gib} GiB`;
  return undefined;
}

/**
 * Every snapshot the point lists, in every region it was copied to, exists, is completed and
 * has the recorded size. A missing or broken one is a verdict; an unreachable EC2 is a failure to verify.
 */
export const testRestore: TestRestore = async (_points, point, input, ctx) => {
  const bad: string[] = [];
  let count = 0;
  for (const [region, snapshots] of byRegion(recordsOf(point.external))) {
    const found = await describeEach(ec2Client(input.ec2, region), region, [...snapshots.keys()]);
    for (const [id, record] of snapshots) {
      count++;
      const wrong = problem(id, record, region, found.get(id));
      if (wrong) bad.push(wrong);
    }
    ctx.heartbeat({ phase: 'describing', region, checked: count });
  }
  const check: CheckResult = bad.length
    ? { check: 'snapshots', ok: false, detail: bad.join('; ') }
    : { check: 'snapshots', ok: true, detail: `${count} snapshots completed with the recorded sizes` };
  return [check];
};

/** Deletes the point's snapshots in every region; one already gone (deleted by hand, an earlier prune) is fine. */
export const prune: PruneHook = async (point, input, ctx) => {
  for (const [region, snapshots] of byRegion(recordsOf(point.external))) {
    const client = ec2Client(input.ec2, region);
    for (const id of snapshots.keys()) {
      try {
        await call(`DeleteSnapshot ${id} in ${region} (point ${point.id})`, () => client.send(new DeleteSnapshotCommand({ SnapshotId: id })));
      } catch (error) {
        if (!(error instanceof ActionError && error.code === 'not_found')) throw error;
      }
      ctx.heartbeat({ phase: 'pruning', point: point.id, region, snapshot: id });
    }
  }
};
