// The search actions' contracts: Elasticsearch/OpenSearch snapshots into a repository of the cluster, their restore into renamed indices, and checks.
import { z } from 'zod';
import { defineAction, STORAGE_SECRETS } from '../action.ts';
import { DURATION_PATTERN } from '../duration.ts';
import { StorageSchema } from '../storage.ts';
import { SEARCH_CONNECTION_SECRETS, searchConnection } from '../search.ts';
import { backupPointFields, committedPointOutput, restoredPointOutput, RestorePointRefSchema, ServiceSchema } from './points.ts';
import { defineIntegrationSpec } from '../integration.ts';

const Duration = (fallback: string) => z.string().regex(DURATION_PATTERN, 'a duration such as 5m').default(fallback);
const Health = z.enum(['green', 'yellow', 'red']);

const IndexCount = z.object({ index: z.string(), documents: z.number() });

/**
 * A snapshot through the API Elasticsearch and OpenSearch share; the data stays in the
 * cluster's repository and the point records what names it there (`external`).
 */
export const searchSnapshot = defineAction({
  name: 'search.snapshot',
  summary: 'Snapshot indices (patterns) into a repository of an Elasticsearch/OpenSearch cluster and record it as a restore point',
  kind: 'activity',
  backend: 'search',
  impact: 'write',
  secret_inputs: [...SEARCH_CONNECTION_SECRETS, ...STORAGE_SECRETS],
  drill_targets: ['storage'],
  input: z.strictObject({
    ...searchConnection,
    service: ServiceSchema,
    repository: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'a repository name: lower case letters, digits, _ . -')
      .describe('the snapshot repository; it must exist unless register is given'),
    register: z
      .strictObject({
        type: z.string().min(1).describe('fs, s3, … (the cluster must have the plugin for it)'),
        settings: z.record(z.string(), z.unknown()).describe('passed through: fs needs a location under the node path.repo'),
      })
      .optional()
      .describe('register the repository (PUT _snapshot/<repository>) before the snapshot; registering it again with the same settings is harmless'),
    indices: z.array(z.string().min(1)).min(1).default(['*']).describe('index names or patterns (-pattern excludes)'),
    include_global_state: z.boolean().default(false),
    slm_policy: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Elasticsearch only: execute this SLM policy (its repository and indices) instead of taking the snapshot directly, and follow the snapshot it starts',
      ),
    timeout: Duration('1h').describe('how long to wait for the snapshot to finish'),
    ...backupPointFields,
  }),
  output: z.object({
    ...committedPointOutput,
    repository: z.string(),
    snapshot: z.string(),
    indices: z.array(IndexCount),
  }),
});

/**
 * Restores a point's snapshot, usually into renamed indices beside the originals; waits for
 * their health and compares their document counts with the point's.
 */
export const searchRestore = defineAction({
  name: 'search.restore',
  summary: "Restore a search snapshot point (a subset of its indices, renamed) and check the restored indices' health and document counts",
  kind: 'activity',
  backend: 'search',
  impact: 'write',
  secret_inputs: [...SEARCH_CONNECTION_SECRETS, ...STORAGE_SECRETS],
  // A drill must rename: restoring under the original names would replace production indices.
  drill_targets: ['rename_replacement'],
  // Renamed indices sit beside the originals; under their own names they replace production indices.
  restores_over: (input) => (input.rename_replacement ? undefined : `indices ${JSON.stringify(input.indices ?? 'all of the point')} under their own names`),
  input: z
    .strictObject({
      ...searchConnection,
      restore_point: RestorePointRefSchema,
      indices: z.array(z.string().min(1)).optional().describe("restore only these of the point's indices (names or patterns)"),
      rename_pattern: z.string().min(1).optional().describe('a regular expression over index names; default (.+) when rename_replacement is given'),
      rename_replacement: z.string().min(1).optional().describe('e.g. restored-$1'),
      wait_for: z
        .enum(['green', 'yellow'])
        .default('yellow')
        .describe('health the restored indices must reach; yellow (primaries active) is what a single-node cluster can give'),
      timeout: Duration('1h').describe('how long to wait for the restored indices to reach wait_for'),
      storage: StorageSchema.optional(),
    })
    .superRefine((i, ctx) => {
      if (i.rename_pattern && !i.rename_replacement)
        ctx.addIssue({ code: 'custom', path: ['rename_replacement'], message: 'rename_pattern needs rename_replacement (e.g. restored-$1)' });
    }),
  output: z.object({
    ...restoredPointOutput,
    repository: z.string(),
    snapshot: z.string(),
    indices: z.array(z.object({ index: z.string(), from: z.string(), documents: z.number(), health: z.string() })),
  }),
});

/** Checks on a live cluster: indices exist, minimum document counts, cluster health at least a status. */
export const searchCheck = defineAction({
  name: 'search.check',
  summary: 'Check a search cluster: indices exist, minimum document counts, cluster health at least a given status',
  kind: 'activity',
  backend: 'search',
  impact: 'read',
  secret_inputs: SEARCH_CONNECTION_SECRETS,
  input: z.strictObject({
    ...searchConnection,
    indices: z.array(z.string().min(1)).default([]).describe('indices (or patterns matching at least one index) that must exist'),
    min_documents: z.record(z.string(), z.number().int().min(0)).default({}).describe('index (or pattern) → fewest documents it must hold'),
    health: Health.default('yellow').describe('the cluster health must be at least this'),
  }),
  output: z.object({
    health: Health,
    checks: z.array(z.object({ check: z.string(), ok: z.boolean(), detail: z.string() })),
  }),
});

/** The search integration: its actions, and its kind of point (a snapshot kept in the cluster) with the cluster verify restores on and prune deletes from. */
export const spec = defineIntegrationSpec({
  name: 'search',
  actions: [searchSnapshot, searchRestore, searchCheck],
  kinds: {
    search: {
      verify: {
        scratch: z
          .string()
          .optional()
          .describe(
            'search points: URL (from a secret) of a cluster with the snapshot repository, default the cluster the point names, where scratch indices are restored and deleted',
          ),
      },
      verify_secrets: ['scratch'],
      prune: {
        search: z
          .strictObject(searchConnection)
          .optional()
          .describe('search points: the cluster to delete their snapshots on, with its login (absent: the cluster each point records, without credentials)'),
      },
      prune_secrets: SEARCH_CONNECTION_SECRETS.map((f) => `search.${f}`),
    },
  },
});
