// mongodb.check: collections exist, minimum document counts and filters that must match, on a live server.
import { BSON, type MongoClient } from 'mongodb';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { withMongo } from './connection.ts';
import type { Namespace } from './namespaces.ts';
import { mongodbCheck } from '../../contract/actions/mongodb.ts';
import type { CheckResult, Checks } from '../../contract/actions/checks.ts';

/** `db.collection`, or a bare collection name in the default database; `rename` maps it (verify's scratch names). */
function resolveName(name: string, database: string | undefined, rename: (ns: Namespace) => Namespace): Namespace {
  const dot = name.indexOf('.');
  if (dot > 0) return rename({ db: name.slice(0, dot), collection: name.slice(dot + 1) });
  if (!database) throw new ActionError('invalid_input', `checks: "${name}" names no database; write db.collection or give database:`, { retryable: false });
  return rename({ db: database, collection: name });
}

async function exists(client: MongoClient, ns: Namespace): Promise<boolean> {
  return client.db(ns.db).listCollections({ name: ns.collection }, { nameOnly: true }).hasNext();
}

/**
 * Runs declared checks: `tables` are collections, `min_rows` minimum document counts,
 * `match` filters (Extended JSON) that enough documents must match. A failing check is a
 * result, not an error; `sql` checks belong to PostgreSQL and fail here.
 */
export async function runMongoChecks(
  client: MongoClient,
  checks: Checks,
  options: { database?: string; rename?: (ns: Namespace) => Namespace; mask: (t: string) => string },
): Promise<CheckResult[]> {
  const name = (n: string) => resolveName(n, options.database, options.rename ?? ((ns) => ns));
  const results: CheckResult[] = [];
  for (const collection of checks.tables) {
    const found = await exists(client, name(collection));
    results.push({ check: `collection ${collection}`, ok: found, detail: found ? 'exists' : 'missing' });
  }
  for (const [collection, min] of Object.entries(checks.min_rows)) {
    const ns = name(collection);
    const count = (await exists(client, ns)) ? await client.db(ns.db).collection(ns.collection).countDocuments({}) : -1;
    results.push({ check: `documents in ${collection} ≥ ${min}`, ok: count >= min, detail: count < 0 ? 'collection missing' : `${count} documents` });
  }
  for (const { collection, filter, min_rows } of checks.match) {
    const ns = name(collection);
    const label = `match ${collection} ${JSON.stringify(filter)}`;
    try {
      const count = await client
        .db(ns.db)
        .collection(ns.collection)
        .countDocuments(BSON.EJSON.deserialize(filter), { limit: Math.max(min_rows, 1) });
      results.push({ check: label, ok: count >= min_rows, detail: `${count} documents (need ${min_rows})` });
    } catch (error) {
      results.push({ check: label, ok: false, detail: options.mask((error as Error).message) });
    }
  }
  for (const { query } of checks.sql) results.push({ check: `sql: ${query}`, ok: false, detail: 'sql checks apply to PostgreSQL; use match for MongoDB' });
  return results;
}

/** A failed check is retryable: a validation right after a restore may race replication. */
export const mongodbCheckImpl = defineImpl({
  spec: mongodbCheck,
  async run(input, ctx) {
    const checks = await withMongo(input.target, ctx.mask, (client) => runMongoChecks(client, input.checks, { database: input.database, mask: ctx.mask }));
    const failed = checks.filter((c) => !c.ok);
    if (failed.length) throw new ActionError('check_failed', failed.map((c) => `${c.check}: ${c.detail}`).join('; '), { retryable: true });
    return { checks };
  },
});
