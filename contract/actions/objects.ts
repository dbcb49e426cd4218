// The object-storage replica actions' contracts: compare a bucket/prefix at the primary and DR sites, copy what is missing or stale, report the lag.
import { z } from 'zod';
import { defineAction } from '../action.ts';
import { DURATION_PATTERN } from '../duration.ts';
import { StorageSchema } from '../storage.ts';
import { defineIntegrationSpec } from '../integration.ts';

const Site = StorageSchema.describe('an s3://bucket/prefix with its endpoint and keys (from secrets)');
const SITE_SECRETS = ['source.access_key', 'source.secret_key', 'replica.access_key', 'replica.secret_key'];

const Comparison = {
  source_objects: z.number(),
  replica_objects: z.number(),
  missing: z.number().describe('objects the replica lacks'),
  stale: z.number().describe('objects whose size or ETag differ at the replica'),
  extra: z.number().describe('objects only the replica has (left alone)'),
  /** The oldest source change the replica does not have yet: the replica's RPO. 0 when in sync. */
  lag_ms: z.number(),
  oldest_unreplicated: z.string().nullable(),
  compared_per_second: z.number(),
};

/** Compares the two sites and reports the replica's lag; fails past `max_lag`. */
export const objectsCheck = defineAction({
  name: 'objects.check',
  summary: 'Compare a bucket/prefix at two sites (keys, sizes, ETags) and report the replica lag as an RPO figure',
  kind: 'activity',
  backend: 'objects',
  impact: 'read',
  secret_inputs: SITE_SECRETS,
  input: z.strictObject({
    source: Site,
    replica: Site,
    max_lag: z.string().regex(DURATION_PATTERN, 'a duration such as 15m').optional().describe('fail when the oldest unreplicated change is older than this'),
  }),
  output: z.object(Comparison),
});

/** Copies what the replica lacks or holds stale, streamed, a bounded number at a time. */
export const objectsReplicate = defineAction({
  name: 'objects.replicate',
  summary: 'Copy objects missing or stale at the replica site (streamed, bounded concurrency); report the lag before and after',
  kind: 'activity',
  backend: 'objects',
  impact: 'write',
  secret_inputs: SITE_SECRETS,
  drill_targets: ['replica'],
  input: z.strictObject({
    source: Site,
    replica: Site,
    concurrency: z.number().int().min(1).max(64).default(8),
  }),
  output: z.object({ ...Comparison, copied: z.number(), copied_bytes: z.number() }),
});

/** The object-storage replica integration; it writes no restore points. */
export const spec = defineIntegrationSpec({
  name: 'objects',
  actions: [objectsCheck, objectsReplicate],
});
