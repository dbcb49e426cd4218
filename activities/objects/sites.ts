// Two S3-compatible sites (MinIO, Ceph, S3) as the replica actions see them: a client per site, listings, a comparison.
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { StorageConfig } from '../../contract/storage.ts';
import { ActionError } from '../runtime/errors.ts';

export interface Site {
  client: S3Client;
  bucket: string;
  prefix: string;
  /** s3://bucket/prefix at endpoint, without credentials. */
  url: string;
}

export interface Listed {
  size: number;
  etag: string;
  modified: number;
}

export function openSite(config: StorageConfig, role: string): Site {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(config.url);
  if (!match) throw new ActionError('invalid_input', `${role}: objects replicas need an s3://bucket/prefix URL, not ${config.url}`, { retryable: false });
  const client = new S3Client({
    region: config.region,
    forcePathStyle: config.force_path_style,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.access_key && config.secret_key ? { credentials: { accessKeyId: config.access_key, secretAccessKey: config.secret_key } } : {}),
  });
  const prefix = match[2]!.replace(/\/+$/, '');
  return { client, bucket: match[1]!, prefix: prefix ? `${prefix}/` : '', url: `${config.url}${config.endpoint ? ` at ${config.endpoint}` : ''}` };
}

/** Every object under the prefix, keyed by its name relative to the prefix. */
export async function listSite(site: Site, signal: AbortSignal, progress: (n: number) => void): Promise<Map<string, Listed>> {
  const out = new Map<string, Listed>();
  let token: string | undefined;
  do {
    const page = await site.client.send(new ListObjectsV2Command({ Bucket: site.bucket, Prefix: site.prefix, ContinuationToken: token }), {
      abortSignal: signal,
    });
    for (const o of page.Contents ?? [])
      out.set(o.Key!.slice(site.prefix.length), { size: o.Size ?? 0, etag: (o.ETag ?? '').replace(/"/g, ''), modified: o.LastModified?.getTime() ?? 0 });
    progress(out.size);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export interface Comparison {
  todo: { key: string; listed: Listed; why: 'missing' | 'stale' }[];
  source_objects: number;
  replica_objects: number;
  missing: number;
  stale: number;
  extra: number;
  lag_ms: number;
  oldest_unreplicated: string | null;
  compared_per_second: number;
}

/**
 * Missing: the replica lacks the key. Stale: its size differs, or its ETag does while the
 * source's object is newer (multipart ETags differ between stores for equal bytes, so an
 * older source object with another ETag is not copied again).
 */
export function compare(source: Map<string, Listed>, replica: Map<string, Listed>, started: number, now = Date.now()): Comparison {
  const todo: Comparison['todo'] = [];
  for (const [key, listed] of source) {
    const there = replica.get(key);
    if (!there) todo.push({ key, listed, why: 'missing' });
    else if (there.size !== listed.size || (there.etag !== listed.etag && listed.modified > there.modified)) todo.push({ key, listed, why: 'stale' });
  }
  const oldest = todo.reduce<{ key: string; listed: Listed } | undefined>((a, b) => (!a || b.listed.modified < a.listed.modified ? b : a), undefined);
  const seconds = Math.max((now - started) / 1000, 0.001);
  return {
    todo,
    source_objects: source.size,
    replica_objects: replica.size,
    missing: todo.filter((t) => t.why === 'missing').length,
    stale: todo.filter((t) => t.why === 'stale').length,
    extra: [...replica.keys()].filter((k) => !source.has(k)).length,
    lag_ms: oldest ? Math.max(0, now - oldest.listed.modified) : 0,
    oldest_unreplicated: oldest ? oldest.key : null,
    compared_per_second: Math.round((source.size + replica.size) / seconds),
  };
}
