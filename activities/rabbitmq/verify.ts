// The RabbitMQ half of backup.verify: the definitions parsed and counted against the manifest, then imported into scratch vhosts of a scratch broker when one is given.
import type { CheckResult, TestRestore } from '../restore-points/verify.ts';
import type { RestorePoint } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import { call, parseBrokerUrl, seg } from './api.ts';
import { countsOf, listed, vhostsOf, type Counts, type Definitions } from './definitions.ts';
import { recordedCounts } from './export.ts';
import { importInto, readDefinitions } from './import.ts';

function compareCounts(defs: Definitions, point: RestorePoint, pointVhost: string | undefined): CheckResult {
  const found = countsOf(defs, pointVhost);
  const recorded = recordedCounts(point);
  const differ = (Object.keys(found) as (keyof Counts)[]).filter((k) => found[k] !== recorded[k]);
  const detail = differ.length
    ? differ.map((k) => `${k}: ${found[k]} in the object, ${recorded[k]} in the manifest`).join('; ')
    : `${found.queues} queues, ${found.exchanges} exchanges, ${found.bindings} bindings, ${found.users} users, ${found.policies} policies as the manifest says`;
  return { check: 'counts', ok: !differ.length, detail };
}

/**
 * Each vhost of the point goes into its own new scratch vhost (users are left out, so the
 * scratch broker's accounts stay as they are); every queue, exchange and binding must be
 * there afterwards. The scratch vhosts are deleted whatever the outcome.
 */
async function scratchImport(url: string, defs: Definitions, point: RestorePoint, pointVhost: string | undefined, ctx: ActionContext): Promise<CheckResult> {
  const broker = parseBrokerUrl(url);
  const sources = pointVhost === undefined ? vhostsOf(defs) : [undefined];
  const created: string[] = [];
  const missing: string[] = [];
  try {
    for (const [i, from] of sources.entries()) {
      const scratch = `rebound-verify-${point.id}-${i}`;
      created.push(scratch);
      const result = await importInto(broker, defs, { vhost: scratch, from, users: false }, pointVhost, ctx);
      missing.push(...result.missing.map((m) => `${from ?? pointVhost}: ${m}`));
    }
  } finally {
    for (const vhost of created)
      await call(broker, 'DELETE', `/api/vhosts/${seg(vhost)}`, { signal: ctx.signal, mask: ctx.mask, accept: [404] }).catch(() => undefined);
  }
  const detail = missing.length
    ? `after import into scratch vhosts on ${broker.origin}, missing ${listed(missing)}`
    : `${sources.length} vhost(s) imported into scratch vhosts on ${broker.origin}: every queue, exchange and binding present`;
  return { check: 'import', ok: !missing.length, detail };
}

/** Without `scratch` the point is parsed and counted only; with it, test-imported too. */
export const testRestore: TestRestore = async (points, point, input, ctx) => {
  const pointVhost = typeof point.source.vhost === 'string' ? point.source.vhost : undefined;
  let defs: Definitions;
  try {
    defs = await readDefinitions(points, point, ctx);
  } catch (error) {
    if (error instanceof ActionError && !error.retryable) return [{ check: 'parse', ok: false, detail: error.message }];
    throw error;
  }
  const checks = [compareCounts(defs, point, pointVhost)];
  if (input.scratch) {
    try {
      checks.push(await scratchImport(input.scratch, defs, point, pointVhost, ctx));
    } catch (error) {
      // Definitions the broker refuses are a verdict; a broker that is down is a failure to verify.
      if (error instanceof ActionError && error.code === 'rejected') checks.push({ check: 'import', ok: false, detail: error.message });
      else throw error;
    }
  }
  return checks;
};
