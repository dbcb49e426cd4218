// The RabbitMQ actions' contracts: definitions (topology, users, policies) exported through the management API into a restore point, imported back, checked.
import { z } from 'zod';
import { defineAction, STORAGE_SECRETS } from '../action.ts';
import { StorageSchema } from '../storage.ts';
import { CheckResultSchema } from './checks.ts';
import { backupPointFields, committedPointOutput, restoredPointOutput, RestorePointRefSchema, ServiceSchema } from './points.ts';
import { defineIntegrationSpec } from '../integration.ts';

const ManagementUrl = z.string().describe('the management API, http(s)://user:password@host:15672 (from a secret)');

/** What a point's definitions hold, as counted at export and after import. */
const DefinitionCounts = {
  vhosts: z.number(),
  users: z.number(),
  queues: z.number(),
  exchanges: z.number(),
  bindings: z.number(),
  policies: z.number(),
};

/**
 * `GET /api/definitions` (or one vhost's): the broker's topology, users with their password
 * hashes, permissions, policies and parameters — not the messages in its queues.
 */
export const rabbitmqExport = defineAction({
  name: 'rabbitmq.export',
  summary: "Export a RabbitMQ broker's definitions (management API; whole broker or one vhost) into a restore point",
  kind: 'activity',
  backend: 'rabbitmq',
  impact: 'write',
  secret_inputs: ['source', ...STORAGE_SECRETS],
  drill_targets: ['storage'],
  input: z.strictObject({
    source: ManagementUrl,
    vhost: z.string().min(1).optional().describe('export only this vhost (its queues, exchanges, bindings, policies, parameters); default: the whole broker'),
    service: ServiceSchema,
    ...backupPointFields,
  }),
  output: z.object({ ...committedPointOutput, ...DefinitionCounts }),
});

/**
 * `POST /api/definitions` of a point to a broker, then a read-back: every queue, exchange and
 * binding of the point must exist there. Definitions are merged: what the target has beyond
 * the point stays.
 */
export const rabbitmqImport = defineAction({
  name: 'rabbitmq.import',
  summary: 'Import the definitions of a RabbitMQ restore point into a broker (whole, or into one vhost) and check every queue, exchange and binding arrived',
  kind: 'activity',
  backend: 'rabbitmq',
  impact: 'write',
  secret_inputs: ['target', ...STORAGE_SECRETS],
  drill_targets: ['target'],
  restores_over: (input) => `broker ${JSON.stringify(input.target)}${input.vhost ? ` vhost ${String(input.vhost)}` : ''}`,
  input: z
    .strictObject({
      restore_point: RestorePointRefSchema,
      target: ManagementUrl,
      vhost: z
        .string()
        .min(1)
        .optional()
        .describe("import into this one vhost (created when missing): the point's queues, exchanges, bindings, policies and parameters, no users"),
      from_vhost: z.string().min(1).optional().describe('with vhost: which vhost of a whole-broker point to take (default: the only one it has)'),
      users: z
        .boolean()
        .default(true)
        .describe("whole-broker imports: also import users (with their password hashes) and permissions; false leaves the target's users alone"),
      storage: StorageSchema.optional(),
    })
    .refine((i) => i.from_vhost === undefined || i.vhost !== undefined, {
      path: ['from_vhost'],
      message: 'from_vhost needs vhost: the vhost to import it into',
    }),
  output: z.object({
    ...restoredPointOutput,
    target: z.string().describe('host:port of the management API'),
    vhost: z.string().nullable(),
    queues: z.number(),
    exchanges: z.number(),
    bindings: z.number(),
  }),
});

const QueueCheck = z.union([
  z.string().min(1),
  z.strictObject({
    name: z.string().min(1),
    min_consumers: z.number().int().min(0).optional(),
    min_messages: z.number().int().min(0).optional(),
  }),
]);

/** A check that fails is retryable: right after an import or a failover, consumers may still be connecting. */
export const rabbitmqCheck = defineAction({
  name: 'rabbitmq.check',
  summary: 'Check a RabbitMQ vhost: queues exist (optionally with at least N consumers or messages), exchanges exist, bindings exist',
  kind: 'activity',
  backend: 'rabbitmq',
  impact: 'read',
  secret_inputs: ['target'],
  input: z
    .strictObject({
      target: ManagementUrl,
      vhost: z.string().min(1).default('/'),
      queues: z.array(QueueCheck).default([]),
      exchanges: z.array(z.string().min(1)).default([]),
      bindings: z
        .array(
          z.strictObject({
            source: z.string().min(1).describe('the exchange'),
            destination: z.string().min(1),
            destination_type: z.enum(['queue', 'exchange']).default('queue'),
            routing_key: z.string().optional().describe('default: any'),
          }),
        )
        .default([]),
    })
    .refine((i) => i.queues.length + i.exchanges.length + i.bindings.length > 0, { message: 'name at least one queue, exchange or binding to check' }),
  output: z.object({ checks: z.array(CheckResultSchema) }),
});

/** The RabbitMQ integration: its actions, and its kind of point with the broker backup.verify may import it into. */
export const spec = defineIntegrationSpec({
  name: 'rabbitmq',
  actions: [rabbitmqExport, rabbitmqImport, rabbitmqCheck],
  kinds: {
    rabbitmq: {
      verify: {
        scratch: z
          .string()
          .optional()
          .describe(
            'RabbitMQ points: a management API URL where scratch vhosts may be created and deleted (optional: without it the definitions are parsed and counted only)',
          ),
      },
      verify_secrets: ['scratch'],
    },
  },
});
