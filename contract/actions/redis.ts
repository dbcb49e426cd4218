// The Redis actions' contracts: an RDB snapshot streamed from a live server into a restore point, its restore (scratch server or placed file), and replication (redis-replication.ts).
import { z } from 'zod';
import { defineAction, STORAGE_SECRETS } from '../action.ts';
import { StorageSchema } from '../storage.ts';
import { backupPointFields, committedPointOutput, restoredPointOutput, RestorePointRefSchema, ServiceSchema } from './points.ts';
import { defineIntegrationSpec } from '../integration.ts';
import { redisPromote, redisReplication } from './redis-replication.ts';

/**
 * An RDB taken through the replication protocol (`redis-cli --rdb -`): the server forks and
 * streams it, nothing is written on the server's disk, and no replica stays attached.
 */
export const redisSnapshot = defineAction({
  name: 'redis.snapshot',
  summary: "Stream a live Redis server's RDB (replication protocol, no file on the server) into a restore point",
  kind: 'activity',
  backend: 'redis',
  impact: 'write',
  secret_inputs: ['source', ...STORAGE_SECRETS],
  drill_targets: ['storage'],
  input: z.strictObject({
    source: z.string().describe('redis://[user:password@]host:port URL, from a secret'),
    service: ServiceSchema,
    ...backupPointFields,
  }),
  output: z.object({ ...committedPointOutput, keys: z.number().describe('keys the server reported when the snapshot started') }),
});

/**
 * Restores an RDB point: `scratch` starts a throwaway redis-server on it (what drills and
 * verification use) and checks its keys; `place` writes it as the dump file a stopped server
 * loads when it starts.
 */
export const redisRestore = defineAction({
  name: 'redis.restore',
  summary: 'Restore a Redis RDB point: into a scratch redis-server with key checks (drills), or as the dump file for a restart',
  kind: 'activity',
  backend: 'redis',
  impact: 'write',
  secret_inputs: STORAGE_SECRETS,
  drill_targets: ['mode', 'path'],
  // A scratch restore loads into a throwaway server on the worker.
  drill_safe: (input) => (input.mode ?? 'scratch') === 'scratch',
  // scratch loads into a throwaway server; place replaces the dump file a live server restarts from.
  restores_over: (input) => (input.mode === 'place' ? `dump file ${String(input.path)}` : undefined),
  input: z
    .strictObject({
      restore_point: RestorePointRefSchema,
      mode: z.enum(['scratch', 'place']).default('scratch'),
      path: z.string().startsWith('/').optional().describe("place: the server's dump file (dir + dbfilename), written whole, then renamed"),
      min_keys: z
        .number()
        .int()
        .min(0)
        .optional()
        .describe('fail unless the restored data holds at least this many keys (default: as many as the snapshot recorded)'),
      keys: z.array(z.string()).default([]).describe('keys that must exist in the restored data (scratch)'),
      storage: StorageSchema.optional(),
    })
    .superRefine((i, ctx) => {
      if (i.mode === 'place' && !i.path) ctx.addIssue({ code: 'custom', path: ['path'], message: 'mode: place needs the path of the dump file' });
    }),
  output: z.object({
    ...restoredPointOutput,
    mode: z.enum(['scratch', 'place']),
    keys: z.number().nullable().describe('keys in the restored data (scratch); null when placed'),
    path: z.string().nullable(),
  }),
});

/** The Redis integration: its actions (replication and promotion among them), and its kind of point (backup.verify loads it into a scratch redis-server on the worker: no fields). */
export const spec = defineIntegrationSpec({
  name: 'redis',
  actions: [redisSnapshot, redisRestore, redisReplication, redisPromote],
  kinds: { redis: {} },
});
