// The index as a store with a manifest key sees it: only points whose manifests are signed with that key, each marked with its signature.
import type { PointIndex } from './catalog.ts';
import { manifestOf, type RestorePoint } from './manifest.ts';
import { judge } from './signature.ts';

/** The point marked with its signature, or undefined when the key refuses it. */
function vouched(point: RestorePoint, key: string | undefined): RestorePoint | undefined {
  const signature = judge(manifestOf(point), key);
  return typeof signature === 'object' ? undefined : { ...point, signature };
}

/**
 * Every answer of `index` checked against the key. A storage listing has refused forged
 * manifests already; the catalog may hold entries synced without the key, and is filtered
 * here (its jsonb copy reorders keys, which the canonical JSON the HMAC covers ignores).
 */
export function trustedIndex(index: PointIndex, key: string | undefined): PointIndex {
  const all = (points: RestorePoint[]) => points.map((p) => vouched(p, key)).filter((p) => p !== undefined);
  return {
    kind: index.kind,
    list: async (query) => all(await index.list(query)),
    async get(id) {
      const point = await index.get(id);
      return point && vouched(point, key);
    },
    async latest(service, options) {
      if (!key) {
        const point = await index.latest(service, options);
        return point && vouched(point, key);
      }
      // Past any newer entry the key refuses, to the newest it accepts.
      const status: RestorePoint['status'][] = options.verified ? ['verified'] : ['verified', 'unverified'];
      return (await index.list({ service, before: options.before, status, limit: 1000 })).map((p) => vouched(p, key)).find((p) => p !== undefined);
    },
    async newestSet(query) {
      const set = await index.newestSet(query);
      const accepted = all(set);
      // A set with a point the key refuses is not a whole set.
      return accepted.length === set.length ? accepted : [];
    },
    record: (point) => index.record(point),
    remove: (id) => index.remove(id),
  };
}
