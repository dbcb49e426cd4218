// Streaming a point's one object from a tool or a server's answer: through sha256 with heartbeats; on failure the tool is killed and the draft discarded.
import { pipeline, type Readable, type Transform } from 'node:stream';
import type { ToolRun } from '../runtime/tool.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import { Digest } from './digest.ts';
import type { PointDraft } from './index.ts';

/** Where a point's bytes come from: a tool's stdout (killed when the upload fails), or any stream (a server's answer, a generator). */
export type PointSource = { tool: ToolRun } | { body: Readable };

/** A Digest that reports the bytes it has passed as a heartbeat, at most once a second. */
export function progressDigest(ctx: Pick<ActionContext, 'heartbeat'>): Digest {
  let last = 0;
  return new Digest((bytes) => {
    if (Date.now() - last < 1000) return;
    last = Date.now();
    ctx.heartbeat({ bytes });
  });
}

/**
 * Streams `source` through `through` and sha256 into the draft's `object`; once it is stored
 * (and the tool exited 0), `settle` may judge what went by (a header, a parse) before the
 * caller commits. On any failure before that the tool is killed and the draft discarded —
 * without a manifest the bytes never were a point — and a store that failed (full,
 * unreachable) is reported as the cause: the tool's broken pipe only follows it.
 */
export async function streamIntoPoint<T = undefined>(
  draft: PointDraft,
  object: string,
  source: PointSource,
  ctx: Pick<ActionContext, 'heartbeat' | 'signal'>,
  options: { through?: Transform[]; settle?: (digest: Digest) => T } = {},
): Promise<{ digest: Digest; settled: T }> {
  const digest = progressDigest(ctx);
  const body = 'tool' in source ? source.tool.stdout : source.body;
  // pipeline, not pipe: a failed stream must fail the upload rather than leave it waiting.
  pipeline([body, ...(options.through ?? []), digest], () => undefined);
  const upload = draft.put(object, digest, ctx.signal);
  try {
    await Promise.all(['tool' in source ? source.tool.done : undefined, upload]);
    return { digest, settled: options.settle?.(digest) as T };
  } catch (error) {
    if ('tool' in source) source.tool.child.kill('SIGKILL');
    const stored = await upload.then(
      () => undefined,
      (e: unknown) => e,
    );
    await draft.discard().catch(() => undefined);
    throw stored ?? error;
  }
}
