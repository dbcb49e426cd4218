// The `storage:` block of backup and restore actions: where restore points live (s3:// or file://), endpoint, region, encryption, credentials, manifest key, Object Lock.
import { z } from 'zod';
import { DURATION_PATTERN } from './duration.ts';

/** S3 Object Lock on every object of a point: not deletable, by anyone holding the store's credentials, before `retain` has passed. */
export const ObjectLockSchema = z.strictObject({
  mode: z
    .enum(['GOVERNANCE', 'COMPLIANCE'])
    .describe(
      'COMPLIANCE: no one, not even the bucket owner, can delete early; GOVERNANCE: only a user granted s3:BypassGovernanceRetention can (Rebound never asks to)',
    ),
  retain: z.string().regex(DURATION_PATTERN, 'a duration such as 30d').describe('how long after it is written each object stays locked, e.g. 30d'),
});

/**
 * Where restore points live: `s3://bucket/prefix` (MinIO, Ceph, S3) or `file:///dir`.
 * Credentials are secrets references, resolved on the worker; without them the worker's
 * AWS environment (AWS_ACCESS_KEY_ID …) is used. Omitted: $REBOUND_STORAGE_URL, else
 * `file://<project>/.data/storage`, the embedded default.
 */
export const StorageSchema = z
  .strictObject({
    url: z.string().regex(/^(s3:\/\/[a-z0-9.-]+(\/.*)?|file:\/\/\/.+)$/, 'an s3://bucket/prefix or file:///dir URL'),
    endpoint: z.url().optional().describe('S3 endpoint, e.g. http://minio.internal:9000'),
    region: z.string().default('us-east-1'),
    force_path_style: z.boolean().default(true),
    server_side_encryption: z.enum(['AES256', 'aws:kms']).optional(),
    access_key: z.string().optional(),
    secret_key: z.string().optional(),
    manifest_key: z
      .string()
      .min(16)
      .optional()
      .describe(
        'from a secret: the store key. Manifests and verdicts are written with an HMAC-SHA256 under it, and only points signed with it are accepted (a store writer without the key cannot forge one)',
      ),
    object_lock: ObjectLockSchema.optional().describe(
      's3:// stores in a bucket created with Object Lock: every object of a point is written locked until write time + retain, and prune keeps (and names) a point until then',
    ),
  })
  // A folder has no Object Lock: a backup that says it is locked and is not must fail, not pass.
  .refine((s) => !(s.object_lock && s.url.startsWith('file://')), {
    path: ['object_lock'],
    message: 'object_lock needs an s3:// store (a file:// store cannot lock objects)',
  });

export type StorageConfig = z.output<typeof StorageSchema>;
