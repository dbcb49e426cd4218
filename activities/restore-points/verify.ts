import { openIndex } from './catalog.ts';
import { dropDatabase, ensureDatabase, restoreInto } from '../postgres/restore.ts';
import { withClient, withDatabase } from '../postgres/connection.ts';
import { runChecks, type CheckResult } from '../postgres/checks.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { Digest } from './digest.ts';
import { defaultStorage, openStore } from './object-store.ts';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { pointPrefix, type Verification } from './manifest.ts';
import { findPoint } from './resolve.ts';
import { backupVerify } from '../../contract/actions/restore-points.ts';

type Check = CheckResult;

/**
 * Re-reads the object (sha256), test-restores it into a scratch database, runs the
 * declared checks, records the verdict in storage (verification.json) and the index, and
 * drops the scratch database whatever happened.
 */
export const verify = defineImpl({
  spec: backupVerify,
  async run(input, ctx) {
    const store = openStore(input.storage ?? defaultStorage());
    const index = openIndex(store);
    try {
      const point = await findPoint(index, input.restore_point);
      if (point.kind !== 'postgres') throw new ActionError('unsupported_kind', `backup.verify cannot test-restore ${point.kind} restore points yet`, { retryable: false });
      const prefix = pointPrefix(point.service, point.kind, point.id);
      const checks: Check[] = [];

      const digest = new Digest((bytes) => ctx.heartbeat({ phase: 'checksum', bytes }));
      await pipeline(await store.get(`${prefix}/${point.object}`), digest, new Writable({ write: (_c, _e, done) => done() }), { signal: ctx.signal });
      const intact = digest.sha256 === point.sha256 && digest.bytes === point.size;
      checks.push({ check: 'sha256', ok: intact, detail: intact ? `${digest.bytes} bytes match the manifest` : `read ${digest.bytes} bytes, sha256 ${digest.sha256}; manifest: ${point.size} bytes, ${point.sha256}` });

      if (intact) {
        const scratch = `rebound_verify_${point.id.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`.slice(0, 63);
        await dropDatabase(input.scratch, scratch, ctx);
        await ensureDatabase(input.scratch, scratch, ctx);
        try {
          await restoreInto(store, point, input.scratch, scratch, { clean: false }, ctx);
          checks.push({ check: 'restore', ok: true, detail: `restored into scratch database ${scratch}` });
          checks.push(...(await withClient(withDatabase(input.scratch, scratch), (client) => runChecks(client, input.checks, ctx.mask), ctx.mask)));
        } catch (error) {
          if (!(error instanceof ActionError) || error.code !== 'tool_failed' || error.retryable) throw error;
          checks.push({ check: 'restore', ok: false, detail: error.message });
        } finally {
          await dropDatabase(input.scratch, scratch, ctx).catch(() => undefined);
        }
      }

      const ok = checks.every((c) => c.ok);
      const verification: Verification = { status: ok ? 'verified' : 'failed', at: new Date().toISOString(), detail: checks.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`).join('; ') || 'all checks passed', checks };
      await store.putText(`${prefix}/verification.json`, `${JSON.stringify(verification, null, 2)}\n`);
      await index.record({ ...point, status: verification.status, verified_at: verification.at });
      if (!ok) throw new ActionError('verification_failed', `restore point ${point.id} of ${point.service} failed verification: ${verification.detail}`, { retryable: false });
      return { restore_point_id: point.id, status: verification.status, checks };
    } finally {
      await index.close();
    }
  },
});
