// The `storage:` block of backup and restore actions: where restore points live (s3:// or file://), endpoint, region, encryption, credentials, manifest key.
import { z } from 'zod';

/**
 * Where restore points live: `s3://bucket/prefix` (MinIO, Ceph, S3) or `file:///dir`.
 * Credentials are secrets references, resolved on the worker; without them the worker's
 * AWS environment (AWS_ACCESS_KEY_ID …) is used. Omitted: $REBOUND_STORAGE_URL, else
 * `file://<project>/.data/storage`, the embedded default.
 */
export const StorageSchema = z.strictObject({
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
});

export type StorageConfig = z.output<typeof StorageSchema>;
