// backup.verify: re-hash a point, test-restore it with its kind's restorer, record the verdict.
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import type { z } from 'zod';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { Digest, listingSha256, openRestorePoints, type PointObject, type RestorePoint, type RestorePoints, type Verification } from './index.ts';
import { backupVerify } from '../../contract/actions/restore-points.ts';

export type CheckResult = Verification['checks'][number];
export type VerifyInput = z.output<typeof backupVerify.input>;

/** The scratch server's URL, which database kinds need: without it their verification cannot start. */
export function scratchUrl(input: VerifyInput, kind: string): string {
  if (input.scratch) return input.scratch;
  throw new ActionError('invalid_input', `backup.verify of a ${kind} point needs scratch: the URL (from a secret) of a server for a scratch database`, {
    retryable: false,
  });
}

/** Restores a point into scratch targets, runs the declared checks and cleans up. */
export type TestRestore = (points: RestorePoints, point: RestorePoint, input: VerifyInput, ctx: ActionContext) => Promise<CheckResult[]>;

async function hashObject(points: RestorePoints, point: RestorePoint, object: string, ctx: ActionContext): Promise<Digest> {
  const digest = new Digest((bytes) => ctx.heartbeat({ phase: 'checksum', object, bytes }));
  await pipeline(await points.open(point, object), digest, new Writable({ write: (_c, _e, done) => done() }), { signal: ctx.signal });
  return digest;
}

async function checksum(points: RestorePoints, point: RestorePoint, ctx: ActionContext): Promise<CheckResult> {
  if (point.external) return checksumExternal(point, point.external);
  if (point.objects) return checksumObjects(points, point, point.objects, ctx);
  const digest = await hashObject(points, point, point.object, ctx);
  const intact = digest.sha256 === point.sha256 && digest.bytes === point.size;
  const detail = intact
    ? `${digest.bytes} bytes match the manifest`
    : `read ${digest.bytes} bytes, sha256 ${digest.sha256}; manifest: ${point.size} bytes, ${point.sha256}`;
  return { check: 'sha256', ok: intact, detail };
}

/** Data kept in another system: only the manifest's list of it can be re-hashed here; the kind's restorer checks the system. */
function checksumExternal(point: RestorePoint, external: NonNullable<RestorePoint['external']>): CheckResult {
  const sha256 = createHash('sha256').update(JSON.stringify(external)).digest('hex');
  const ok = sha256 === point.sha256;
  const detail = ok ? `the list of ${external.length} external items matches the manifest` : `the external list hashes to ${sha256}; manifest: ${point.sha256}`;
  return { check: 'sha256', ok, detail };
}

/** A point of several objects: every listed object is re-hashed, and the listing itself must match. */
async function checksumObjects(points: RestorePoints, point: RestorePoint, objects: PointObject[], ctx: ActionContext): Promise<CheckResult> {
  const bad: string[] = [];
  let bytes = 0;
  for (const object of objects) {
    const digest = await hashObject(points, point, object.name, ctx).catch((error: Error) => error);
    if (digest instanceof Error) {
      bad.push(`${object.name}: ${digest.message}`);
      continue;
    }
    bytes += digest.bytes;
    if (digest.sha256 !== object.sha256 || digest.bytes !== object.size)
      bad.push(`${object.name}: read ${digest.bytes} bytes, sha256 ${digest.sha256}; manifest: ${object.size} bytes, ${object.sha256}`);
  }
  if (listingSha256(objects) !== point.sha256) bad.push(`the object listing's sha256 is not the manifest's ${point.sha256}`);
  const detail = bad.length ? bad.join('; ') : `${objects.length} objects, ${bytes} bytes match the manifest`;
  return { check: 'sha256', ok: !bad.length, detail };
}

/**
 * backup.verify over the test-restorers of each kind (postgres/, mongodb/ …): the verdict
 * is recorded in storage (verification.json) and the index whatever it is.
 */
export function defineVerify(restorers: Record<string, TestRestore>) {
  return defineImpl({
    spec: backupVerify,
    async run(input, ctx) {
      const points = openRestorePoints(input.storage);
      const found = await points.find(input.restore_point);
      // Hashes are of the manifest as written: the catalog's copy of it may order keys differently.
      const point = await points.stored(found);
      if (!point)
        throw new ActionError(
          'not_found',
          `the index lists restore point ${found.id} but ${points.url} has no manifest for it; run rebound restore-points sync`,
          {
            retryable: false,
          },
        );
      // "postgres: …" on a MongoDB point would send the reader to the wrong server.
      ctx.setBackend(point.kind);
      const restorer = restorers[point.kind];
      if (!restorer) throw new ActionError('unsupported', `backup.verify cannot test-restore ${point.kind} restore points`, { retryable: false });
      const checks = [await checksum(points, point, ctx)];
      if (checks[0]!.ok) checks.push(...(await restorer(points, point, input, ctx)));
      const ok = checks.every((c) => c.ok);
      const failed = checks.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`);
      const verification: Verification = {
        status: ok ? 'verified' : 'failed',
        at: new Date().toISOString(),
        detail: failed.join('; ') || 'all checks passed',
        checks,
      };
      await points.recordVerification(point, verification);
      if (!ok)
        throw new ActionError('verification_failed', `restore point ${point.id} of ${point.service} failed verification: ${verification.detail}`, {
          retryable: false,
        });
      return { restore_point_id: point.id, status: verification.status, checks };
    },
  });
}
