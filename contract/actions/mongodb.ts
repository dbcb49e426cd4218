// Definitions of the MongoDB actions: dumps in mongodump's --gzip directory format, restores, checks.
import { z } from 'zod';
import { defineAction, STORAGE_SECRETS } from '../action.ts';
import { StorageSchema } from '../storage.ts';
import { backupPointFields, committedPointOutput, restoredPointOutput, RestorePointRefSchema, ServiceSchema } from './points.ts';
import { ChecksSchema, CheckResultSchema } from './checks.ts';
import { defineIntegrationSpec } from '../integration.ts';

const namespacePatterns = (what: string) =>
  z
    .array(z.string().regex(/^[^.]+\.?.*$/, 'a namespace pattern: db.collection, with * for any characters'))
    .default([])
    .describe(`namespace patterns (${what}): "app.orders", "app.*", "*.audit"; * matches any characters`);

/** `tool:` of a dump or restore; resolved on the worker, where the binaries are or are not. */
const toolChoice = (binary: string, auto: string) =>
  z
    .enum(['auto', 'driver', 'mongodump'])
    .default('auto')
    .describe(
      `auto: the MongoDB Database Tools' ${binary} if it is on the worker's PATH${auto}, else the driver; driver: the official Node driver; mongodump: the Database Tools (${binary}), failing if the worker has none`,
    );

/** Dumps collections (driver or mongodump) into mongodump's layout; the manifest lists every object and the tool. */
export const mongodbDump = defineAction({
  name: 'mongodb.dump',
  summary: "Dump MongoDB collections (mongodump's --gzip directory format) into a restore point",
  kind: 'activity',
  backend: 'mongodb',
  impact: 'write',
  secret_inputs: ['source', ...STORAGE_SECRETS],
  drill_targets: ['storage'],
  input: z.strictObject({
    source: z.string().describe('mongodb:// URL, from a secret: ${{ secrets.orders_mongo }}'),
    service: ServiceSchema,
    include: namespacePatterns('default: every database but admin, local and config'),
    exclude: namespacePatterns('applied after include'),
    parallel: z.number().int().min(1).max(16).default(2).describe('collections streamed at once'),
    consistency: z
      .enum(['collection', 'snapshot'])
      .default('collection')
      .describe('collection: each collection read at its own time; snapshot: all at one cluster time (replica set, MongoDB ≥ 5.0)'),
    tool: toolChoice('mongodump', ' (not for consistency: snapshot, which only the driver does)'),
    compress: z.number().int().min(1).max(9).default(6).describe('gzip level (mongodump uses 6); driver only'),
    batch_size: z.number().int().min(1).max(100_000).default(1000).describe('most documents per cursor batch; driver only'),
    batch_bytes: z
      .number()
      .int()
      .min(1024)
      .max(16 << 20)
      .default(1 << 20)
      .describe("bytes per cursor batch, from the size of a collection's first documents (fewer documents when they are large); driver only"),
    ...backupPointFields,
  }),
  output: z.object({
    ...committedPointOutput,
    collections: z.number(),
    documents: z.number(),
    tool: z.enum(['driver', 'mongodump']).describe('what wrote the point'),
  }),
});

export const NamespaceMapSchema = z.strictObject({
  from: z.string().describe('e.g. "app.*"'),
  to: z.string().describe('e.g. "scratch_app.*": each * takes what the matching * in from matched'),
});

/** Restores a MongoDB point: collections with their options, documents in batches, then indexes (driver or mongorestore). */
export const mongodbRestore = defineAction({
  name: 'mongodb.restore',
  summary: 'Restore a MongoDB restore point: collections, documents, indexes; optionally into other names',
  kind: 'activity',
  backend: 'mongodb',
  impact: 'write',
  secret_inputs: ['target', ...STORAGE_SECRETS],
  drill_targets: ['target', 'namespace'],
  restores_over: (input) => {
    const renamed = input.namespace as { to?: string } | undefined;
    return `${renamed?.to ? `collections ${renamed.to}` : 'its collections under their own names'} (target ${JSON.stringify(input.target)})`;
  },
  input: z.strictObject({
    restore_point: RestorePointRefSchema,
    target: z.string().describe('mongodb:// URL of the target server, from a secret'),
    include: namespacePatterns('of the dumped names; default: all'),
    namespace: NamespaceMapSchema.optional().describe('restore into other names (what drills and backup.verify use)'),
    drop: z.boolean().default(false).describe('drop each target collection before restoring it'),
    parallel: z.number().int().min(1).max(16).default(2),
    tool: toolChoice('mongorestore', ''),
    batch_bytes: z
      .number()
      .int()
      .min(1 << 16)
      .max(48 << 20)
      .default(8 << 20)
      .describe('bytes of documents per insert batch (bounds memory); driver only'),
    storage: StorageSchema.optional(),
  }),
  output: z.object({
    ...restoredPointOutput,
    collections: z.number(),
    documents: z.number(),
    duplicates: z.number().describe('documents already there; with mongorestore, those it reported as failed to restore'),
    restored_bytes: z.number(),
    tool: z.enum(['driver', 'mongodump']).describe('what restored the point'),
  }),
});

/** Validates a MongoDB deployment: collections exist, minimum document counts, filters that must match. */
export const mongodbCheck = defineAction({
  name: 'mongodb.check',
  summary: 'Check MongoDB: collections exist (tables), minimum document counts (min_rows), filters that must match (match)',
  kind: 'activity',
  backend: 'mongodb',
  impact: 'read',
  secret_inputs: ['target'],
  input: z.strictObject({
    target: z.string().describe('mongodb:// URL, from a secret'),
    database: z.string().optional().describe('the database of collection names given without one'),
    checks: ChecksSchema,
  }),
  output: z.object({ checks: z.array(CheckResultSchema) }),
});

/** The MongoDB integration: its actions, and its kind of point with the scratch server backup.verify restores it into. */
export const spec = defineIntegrationSpec({
  name: 'mongodb',
  actions: [mongodbDump, mongodbRestore, mongodbCheck],
  kinds: {
    mongodb: {
      verify: {
        scratch: z
          .string()
          .optional()
          .describe('MongoDB points: connection URL (from a secret) of a server where a scratch database may be created and dropped'),
      },
      verify_secrets: ['scratch'],
    },
  },
});
