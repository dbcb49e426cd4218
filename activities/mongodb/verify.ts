// The MongoDB half of backup.verify: test-restore into scratch databases, compare counts with the manifest, run checks, drop them.
import { createHash } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import type { RestorePoint } from '../restore-points/index.ts';
import { scratchUrl, type CheckResult, type TestRestore } from '../restore-points/verify.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import { runMongoChecks } from './check.ts';
import { mongoFailure, withMongo } from './connection.ts';
import { mapNamespace, type Namespace } from './namespaces.ts';
import { restoreInto, restorables, type Restorable } from './restore.ts';

/** Scratch names: every database of the point gets a prefix of the point's own, so verifications never share a name. */
function scratchMap(point: RestorePoint) {
  const prefix = `rv_${createHash('sha256').update(point.id).digest('hex').slice(0, 10)}_`;
  return { from: '*', to: `${prefix}*` };
}

async function dropScratch(client: MongoClient, items: Restorable[]): Promise<void> {
  for (const db of new Set(items.map((i) => i.to.db))) await client.db(db).dropDatabase();
}

/** Each restored collection holds as many documents as the dump wrote. */
async function compareCounts(client: MongoClient, items: Restorable[]): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const item of items.filter((i) => i.data)) {
    const count = await client.db(item.to.db).collection(item.to.collection).countDocuments({});
    const expected = item.data!.documents ?? 0;
    results.push({
      check: `documents in ${item.from.db}.${item.from.collection}`,
      ok: count === expected,
      detail: count === expected ? `${count} restored, as dumped` : `${count} restored; the manifest says ${expected}`,
    });
  }
  return results;
}

async function verifyWith(client: MongoClient, items: Restorable[], run: () => Promise<unknown>, checks: () => Promise<CheckResult[]>, ctx: ActionContext) {
  await dropScratch(client, items);
  try {
    await run();
  } catch (error) {
    // A restore the server or the reader refused is a verdict on the point; trouble reaching the server is not.
    const failure = mongoFailure(error, 'test restore', ctx.mask);
    if (failure.retryable) throw failure;
    return [{ check: 'restore', ok: false, detail: failure.message }];
  }
  const restored = { check: 'restore', ok: true, detail: `restored into scratch databases ${[...new Set(items.map((i) => i.to.db))].join(', ')}` };
  return [restored, ...(await compareCounts(client, items)), ...(await checks())];
}

export const testRestore: TestRestore = (points, point, input, ctx) =>
  withMongo(scratchUrl(input, 'mongodb'), ctx.mask, async (client) => {
    const namespace = scratchMap(point);
    const items = await restorables(points, point, { include: [], namespace });
    const rename = (ns: Namespace) => mapNamespace(ns, namespace);
    try {
      return await verifyWith(
        client,
        items,
        () => restoreInto(client, points, point, { include: [], namespace, drop: true, parallel: 2, batch_bytes: 8 << 20 }, ctx),
        () => runMongoChecks(client, input.checks, { rename, mask: ctx.mask }),
        ctx,
      );
    } finally {
      await dropScratch(client, items).catch(() => undefined);
    }
  });
