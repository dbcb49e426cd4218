// The S3/MinIO store of restore points: streamed multipart uploads, prefix deletes, and Object Lock (locked writes, deleting every version).
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  HeadBucketCommand,
  CreateBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { StorageConfig } from '../../contract/storage.ts';
import { ActionError } from '../runtime/errors.ts';
import type { ObjectStore } from './object-store.ts';

/** Where `retainUntil` is given, the request fields that lock the object until then. */
function lockFields(config: StorageConfig, retainUntil: Date | undefined) {
  if (!retainUntil || !config.object_lock) return {};
  return { ObjectLockMode: config.object_lock.mode, ObjectLockRetainUntilDate: retainUntil };
}

/** A DeleteObjects answer's per-key refusals (S3 answers 200 and lists them): a lock, or a permission. */
function deleteRefused(url: string, output: DeleteObjectsCommandOutput): void {
  const errors = output.Errors ?? [];
  if (!errors.length) return;
  const first = errors[0]!;
  // A lock refuses as AccessDenied: retryable, as it ends; prune already keeps points whose retain_until has not passed.
  throw new ActionError(
    'backend_error',
    `storage ${url} refused to delete ${errors.length} object(s), e.g. ${first.Key}: ${first.Code} ${first.Message ?? ''}`.trim(),
    {
      retryable: true,
    },
  );
}

export class S3Store implements ObjectStore {
  private readonly client: S3Client;
  private bucketChecked = false;

  constructor(
    readonly url: string,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly config: StorageConfig,
  ) {
    this.client = new S3Client({
      region: config.region,
      // Rebound hashes every object itself (sha256, in the manifest); the SDK's default
      // CRC32 of each part would be a second full pass over the dump for nothing. Except under
      // Object Lock: S3 refuses a locked write (PutObject, each part) that carries no checksum.
      requestChecksumCalculation: config.object_lock ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      forcePathStyle: config.force_path_style,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.access_key && config.secret_key ? { credentials: { accessKeyId: config.access_key, secretAccessKey: config.secret_key } } : {}),
    });
  }

  private key(key: string): string {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  private async ensureBucket(): Promise<void> {
    if (this.bucketChecked) return;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
      // Object Lock can only be turned on when a bucket is made: a store that asks for it gets a bucket that has it.
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket, ...(this.config.object_lock ? { ObjectLockEnabledForBucket: true } : {}) }));
    }
    this.bucketChecked = true;
  }

  /**
   * Aborts uploads left open at this key. An object's key is the same on every attempt, so
   * one is an earlier attempt that died mid-upload (a killed worker cannot abort its own):
   * its parts would otherwise stay in the bucket, unlisted and billed, indefinitely.
   */
  private async abortOpenUploads(key: string): Promise<void> {
    // By exact key as the prefix: MinIO lists open uploads for one object name, or all of them.
    const open = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: key }));
    for (const upload of open.Uploads ?? []) {
      if (upload.Key !== key) continue;
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: upload.UploadId }));
    }
  }

  async put(key: string, body: Readable, signal?: AbortSignal, retainUntil?: Date): Promise<void> {
    await this.ensureBucket();
    await this.abortOpenUploads(this.key(key));
    // Multipart, streamed: memory stays near (queueSize + 1) × partSize whatever the dump's size,
    // and a MongoDB dump uploads `parallel` objects at once. S3's smallest part, two in flight:
    // a dump comes no faster than ~15 MB/s per object, which two 5 MB parts on a LAN keep up with.
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: this.key(key),
        // The stream's own chunks: lib-storage copies them into each part anyway, and a copy into
        // larger buffers first only added a third to the bytes allocated, and the full GCs they trigger.
        Body: body,
        ...(this.config.server_side_encryption ? { ServerSideEncryption: this.config.server_side_encryption } : {}),
        ...lockFields(this.config, retainUntil),
      },
      partSize: 5 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const abort = () => void upload.abort();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await upload.done();
    } catch (error) {
      // lib-storage leaves a source it stopped reading paused: the tool writing into it would block.
      body.destroy();
      throw this.unlockable(error);
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  async get(key: string): Promise<Readable> {
    const result = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
    return result.Body as Readable;
  }

  async putText(key: string, text: string, retainUntil?: Date): Promise<void> {
    await this.ensureBucket();
    await this.client
      .send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(key),
          Body: text,
          ContentType: 'application/json',
          ...(this.config.server_side_encryption ? { ServerSideEncryption: this.config.server_side_encryption } : {}),
          ...lockFields(this.config, retainUntil),
        }),
      )
      .catch((error: unknown) => {
        throw this.unlockable(error);
      });
  }

  /** A locked write to a bucket made without Object Lock: no retry can help, the bucket must be made again. */
  private unlockable(error: unknown): unknown {
    if (!this.config.object_lock || !/ObjectLockConfiguration/i.test((error as Error).message ?? '')) return error;
    return new ActionError(
      'unsupported',
      `storage ${this.url} asks for object_lock but bucket ${this.bucket} has no Object Lock (it can only be enabled when a bucket is created): ${(error as Error).message}`,
      { retryable: false, cause: error },
    );
  }

  async getText(key: string): Promise<string | undefined> {
    try {
      const result = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return await result.Body!.transformToString();
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket') return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.key(prefix), ContinuationToken: token }));
      } catch (error) {
        if ((error as Error).name === 'NoSuchBucket') return;
        throw error;
      }
      for (const object of page.Contents ?? []) {
        if (object.Key) yield this.prefix ? object.Key.slice(this.prefix.length + 1) : object.Key;
      }
      token = page.NextContinuationToken;
    } while (token);
  }

  async deletePrefix(prefix: string, versions?: 'all'): Promise<number> {
    if (versions) return this.deleteVersions(prefix);
    const keys: string[] = [];
    for await (const key of this.list(prefix)) keys.push(key);
    for (let i = 0; i < keys.length; i += 1000) {
      const output = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.slice(i, i + 1000).map((k) => ({ Key: this.key(k) })) } }),
      );
      deleteRefused(this.url, output);
    }
    return keys.length;
  }

  /**
   * Deletes every version and delete marker under a prefix: on a versioned bucket (every
   * Object Lock bucket is one) a delete without a version id only hides the object behind
   * a marker, and the data stays, billed and readable by version. Returns the objects (current
   * keys) there were. A version still locked is refused by S3, and the refusal is thrown.
   */
  private async deleteVersions(prefix: string): Promise<number> {
    const keys = new Set<string>();
    let page: { KeyMarker?: string; VersionIdMarker?: string } = {};
    for (;;) {
      let listing;
      try {
        listing = await this.client.send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: this.key(prefix), ...page }));
      } catch (error) {
        if ((error as Error).name === 'NoSuchBucket') return 0;
        throw error;
      }
      const objects = [...(listing.Versions ?? []), ...(listing.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
      for (const v of listing.Versions ?? []) if (v.IsLatest) keys.add(v.Key!);
      for (let i = 0; i < objects.length; i += 1000) {
        const output = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects.slice(i, i + 1000) } }));
        deleteRefused(this.url, output);
      }
      if (!listing.IsTruncated) return keys.size;
      page = { KeyMarker: listing.NextKeyMarker, VersionIdMarker: listing.NextVersionIdMarker };
    }
  }
}
