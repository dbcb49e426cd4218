// The etcd actions' contracts: a snapshot streamed from the maintenance API into a restore point, and its restore into a new data directory.
import { z } from 'zod';
import { defineAction, STORAGE_SECRETS } from '../action.ts';
import { StorageSchema } from '../storage.ts';
import { backupPointFields, committedPointOutput, restoredPointOutput, RestorePointRefSchema, ServiceSchema } from './points.ts';
import { defineIntegrationSpec } from '../integration.ts';

const EtcdAuth = z.strictObject({
  user: z.string().min(1),
  password: z.string().min(1).describe('from a secret'),
});

/** A member's whole keyspace through the maintenance API's Snapshot stream (the HTTP gateway): nothing is written on the member. */
export const etcdSnapshot = defineAction({
  name: 'etcd.snapshot',
  summary: "Stream an etcd member's snapshot (maintenance API) through sha256 into a restore point",
  kind: 'activity',
  backend: 'etcd',
  impact: 'write',
  secret_inputs: ['auth.password', ...STORAGE_SECRETS],
  drill_targets: ['storage'],
  input: z.strictObject({
    endpoint: z.url({ protocol: /^https?$/ }).describe("a member's client URL, e.g. http://etcd-0.internal:2379"),
    auth: EtcdAuth.optional().describe('when the cluster has authentication enabled'),
    service: ServiceSchema,
    ...backupPointFields,
  }),
  output: z.object({ ...committedPointOutput, keys: z.number().describe('keys the member held when the snapshot started'), revision: z.number() }),
});

/**
 * Restores a snapshot into a new data directory with `etcdctl snapshot restore` (its integrity
 * hash checked): `scratch` then starts a throwaway etcd on it and checks its keys (drills);
 * `place` leaves the directory at `data_dir` for a member to be started on.
 */
export const etcdRestore = defineAction({
  name: 'etcd.restore',
  summary: 'Restore an etcd snapshot into a new data directory: a scratch member with key checks (drills), or placed for a rebuilt member',
  kind: 'activity',
  backend: 'etcd',
  impact: 'write',
  secret_inputs: ['auth.password', ...STORAGE_SECRETS],
  drill_targets: ['mode', 'data_dir'],
  restores_over: (input) => (input.mode === 'place' ? `data directory ${String(input.data_dir)} (member ${String(input.name ?? 'default')})` : undefined),
  input: z
    .strictObject({
      restore_point: RestorePointRefSchema,
      mode: z.enum(['scratch', 'place']).default('scratch'),
      data_dir: z.string().startsWith('/').optional().describe('place: the new data directory (must not exist yet)'),
      name: z.string().default('default').describe('place: the member name the data directory is made for'),
      initial_cluster: z.string().optional().describe('place: name=peer-url,… (default: the member alone on http://127.0.0.1:2380)'),
      min_keys: z.number().int().min(0).optional().describe('scratch: at least this many keys (default: as many as the snapshot recorded)'),
      keys: z.array(z.string()).default([]).describe('scratch: keys that must exist'),
      auth: EtcdAuth.optional().describe('scratch: a user of the restored data, when the snapshot has authentication enabled'),
      storage: StorageSchema.optional(),
    })
    .superRefine((i, ctx) => {
      if (i.mode === 'place' && !i.data_dir) ctx.addIssue({ code: 'custom', path: ['data_dir'], message: 'mode: place needs data_dir' });
    }),
  output: z.object({
    ...restoredPointOutput,
    mode: z.enum(['scratch', 'place']),
    keys: z.number().nullable(),
    data_dir: z.string().nullable(),
  }),
});

/** The etcd integration: its actions, and its kind of point (loaded into a scratch etcd on the worker) with the login its restored data may need. */
export const spec = defineIntegrationSpec({
  name: 'etcd',
  actions: [etcdSnapshot, etcdRestore],
  kinds: {
    etcd: {
      verify: {
        // etcd's snapshot restore keeps the auth store, and etcd has no switch to start without it.
        auth: z
          .strictObject({ user: z.string().min(1), password: z.string().min(1).describe('from a secret') })
          .optional()
          .describe('etcd points taken with authentication on: a user of the restored data, who may read every key'),
      },
      verify_secrets: ['auth.password'],
    },
  },
});
