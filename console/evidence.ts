// A verification's evidence for the restore-points page: each shown point's verification.json (what backup.verify checked), read through the restore-point domain.
import type { Readable } from 'node:stream';
import type { PointRecord } from '../client/posture.ts';
import type { Evidence } from './views/restore-points.ts';

/** The object a verdict is written to beside a point's manifest (activities/restore-points/layout.ts VERIFICATION). */
const VERIFICATION = 'verification.json';

/** What reading evidence needs of the catalog: openRestorePoints(storage) (activities/restore-points/index.ts) is one. */
export interface EvidenceSource {
  open(point: PointRecord, object?: string): Promise<Readable>;
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function parse(json: string): Evidence | undefined {
  try {
    const v = JSON.parse(json) as { detail?: unknown; checks?: unknown };
    const checks = Array.isArray(v.checks)
      ? v.checks.filter((c): c is Evidence['checks'][number] => !!c && typeof c === 'object' && typeof (c as { check?: unknown }).check === 'string')
      : [];
    return { detail: typeof v.detail === 'string' ? v.detail : '', checks };
  } catch {
    return undefined;
  }
}

/**
 * The evidence of the first `max` points that have a verdict, by point id; one that cannot be
 * read is left out (the page then shows the verdict alone). The status shown stays the
 * catalog's, which counted only a verdict the store's key signed.
 */
export async function loadEvidence(source: EvidenceSource, points: PointRecord[], max = 100): Promise<Map<string, Evidence>> {
  const judged = points.filter((p) => p.status !== 'unverified').slice(0, max);
  const found = await Promise.all(
    judged.map(async (p) => {
      const body = await source
        .open(p, VERIFICATION)
        .then(text)
        .catch(() => undefined);
      const evidence = body === undefined ? undefined : parse(body);
      return evidence ? ([p.id, evidence] as const) : undefined;
    }),
  );
  return new Map(found.filter((e) => e !== undefined));
}
