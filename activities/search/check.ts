// search.check: indices exist, minimum document counts and cluster health, on a live cluster.
import { searchCheck } from '../../contract/actions/search.ts';
import type { CheckResult } from '../../contract/actions/checks.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { connect, countDocuments, get, resolveIndices, type Cluster } from './client.ts';

const RANK = { red: 0, yellow: 1, green: 2 } as const;
type Health = keyof typeof RANK;

async function documentsIn(cluster: Cluster, pattern: string): Promise<{ indices: string[]; documents: number }> {
  const indices = await resolveIndices(cluster, [pattern]);
  const counts = await countDocuments(cluster, indices);
  return { indices, documents: Object.values(counts).reduce((a, b) => a + b, 0) };
}

/** A failed check is retryable: a validation right after a restore may run before the shards are active. */
export const searchCheckImpl = defineImpl({
  spec: searchCheck,
  async run(input, ctx) {
    const cluster = connect(input, ctx);
    const health = (await get<{ status: Health }>(cluster, '/_cluster/health', 'reading cluster health')).status;
    const checks: CheckResult[] = [{ check: `health ≥ ${input.health}`, ok: RANK[health] >= RANK[input.health], detail: `cluster is ${health}` }];
    for (const pattern of input.indices) {
      const indices = await resolveIndices(cluster, [pattern]);
      checks.push({ check: `index ${pattern}`, ok: indices.length > 0, detail: indices.length ? `exists (${indices.join(', ')})` : 'missing' });
    }
    for (const [pattern, min] of Object.entries(input.min_documents)) {
      const { indices, documents } = await documentsIn(cluster, pattern);
      checks.push({
        check: `documents in ${pattern} ≥ ${min}`,
        ok: indices.length > 0 && documents >= min,
        detail: indices.length ? `${documents} documents` : 'index missing',
      });
    }
    const failed = checks.filter((c) => !c.ok);
    if (failed.length) throw new ActionError('check_failed', `${cluster.url}: ${failed.map((c) => `${c.check}: ${c.detail}`).join('; ')}`, { retryable: true });
    return { health, checks };
  },
});
