// etcd.snapshot: the maintenance API's snapshot stream, through sha256, into a restore point; the member writes nothing to disk.
import { Readable } from 'node:stream';
import { etcdSnapshot } from '../../contract/actions/etcd.ts';
import { commitStreamed, committedOutput, openStepPoint, type RestorePoint, streamIntoPoint } from '../restore-points/index.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { authenticate, keyCount } from './gateway.ts';
import { snapshotChunks } from './maintenance.ts';

export const ETCD_KIND = 'etcd';
export const SNAPSHOT_OBJECT = 'snapshot.db';

const outputOf = (point: RestorePoint, object: string) => ({
  ...committedOutput(point, object),
  keys: Number(point.source.keys ?? 0),
  revision: Number(point.source.revision ?? 0),
});

export const etcdSnapshotImpl = defineImpl({
  spec: etcdSnapshot,
  async run(input, ctx) {
    const { id, points, draft, committed } = await openStepPoint(input.storage, input.service, ETCD_KIND, ctx);
    if (committed) return outputOf(committed, points.keyOf(committed));
    const member = await authenticate({ endpoint: input.endpoint, signal: ctx.signal, mask: ctx.mask }, input.auth);
    const { keys, revision } = await keyCount(member);
    const started = new Date().toISOString();
    const { digest } = await streamIntoPoint(draft, SNAPSHOT_OBJECT, { body: Readable.from(snapshotChunks(member)) }, ctx);
    const version = await fetch(new URL('/version', input.endpoint), { signal: ctx.signal })
      .then(async (r) => ((await r.json()) as { etcdserver?: string }).etcdserver ?? 'unknown')
      .catch(() => 'unknown');
    const point = await commitStreamed(
      draft,
      { object: SNAPSHOT_OBJECT, digest, started_at: started, input, ctx },
      {
        source: { endpoint: new URL(input.endpoint).origin, ...(input.auth ? { user: input.auth.user } : {}), keys, revision },
        tool: { name: 'rebound (etcd Maintenance.Snapshot, gRPC)', version: 'v3' },
        server_version: version,
      },
    );
    ctx.log('info', `restore point ${id} of ${input.service}: ${digest.bytes} bytes, ${keys} keys at revision ${revision}`);
    return outputOf(point, points.keyOf(point));
  },
});
