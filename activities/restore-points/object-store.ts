// The object stores that hold restore points: a local folder (file://) or S3/MinIO (s3://), with streamed multipart uploads and prefix deletes.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
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

/** A full disk or quota, said in words that name the store: Node's own text names neither. */
function storageFull(url: string, key: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return error;
  const why = code === 'ENOSPC' ? 'no space left on device' : 'disk quota exceeded';
  return new ActionError('storage_full', `storage ${url} is full (${why}) writing ${key}`, { retryable: true, cause: error });
}

/** An object store holding restore points. Keys are relative to the store's prefix. */
export interface ObjectStore {
  /** The store's URL, without credentials: safe for manifests, logs and errors. */
  readonly url: string;
  /**
   * Streams `body` to `key`; aborting `signal` stops and leaves no object to trust. With
   * `retainUntil` (stores with `object_lock` only) the object is locked until then.
   */
  put(key: string, body: Readable, signal?: AbortSignal, retainUntil?: Date): Promise<void>;
  get(key: string): Promise<Readable>;
  putText(key: string, text: string, retainUntil?: Date): Promise<void>;
  getText(key: string): Promise<string | undefined>;
  list(prefix: string): AsyncIterable<string>;
  /**
   * Deletes every object under a prefix; returns how many. `versions`: every version too
   * (a versioned bucket otherwise keeps them behind a delete marker), refused while locked.
   */
  deletePrefix(prefix: string, versions?: 'all'): Promise<number>;
}

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
    'delete_refused',
    `storage ${url} refused to delete ${errors.length} object(s), e.g. ${first.Key}: ${first.Code} ${first.Message ?? ''}`.trim(),
    {
      retryable: true,
    },
  );
}

/** Dumps hold a service's data: readable by the worker's user only, whatever the umask. */
const PRIVATE_FILE = 0o600;
const PRIVATE_DIR = 0o700;

/** Folders no store may be, nor be inside: the system's own. */
const SYSTEM_TREES = ['/etc', '/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/boot', '/dev', '/proc', '/sys'];
/** Folders a store may sit below but never be: a prune or a scan there would reach everyone's files. */
const SHARED_ROOTS = ['/var', '/root', '/home', '/tmp', '/run', '/opt', '/srv', '/mnt', '/media'];

/**
 * The folder a file:// URL names, after `.` and `..`; refused when it is `/` or a system
 * folder, with the reason. `file:///.` passes the URL check and is `/`.
 */
export function fileStoreRoot(url: string): string {
  const root = resolve(fileURLToPath(url));
  const refuse = (what: string) =>
    new ActionError('unsafe_storage', `storage ${url} refuses ${root} (${what}): name a folder of its own`, { retryable: false });
  if (root === '/') throw refuse('the root folder');
  if (SYSTEM_TREES.some((t) => root === t || root.startsWith(`${t}/`))) throw refuse('a system folder');
  if (SHARED_ROOTS.includes(root)) throw refuse('a system folder, shared by every user or service');
  if (root === resolve(homedir())) throw refuse("the worker user's home folder");
  return root;
}

class FileStore implements ObjectStore {
  constructor(
    readonly url: string,
    private readonly root: string,
  ) {}

  private path(key: string): string {
    const full = join(this.root, key);
    const rel = relative(this.root, full);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw new Error(`key ${key} escapes the store`);
    return full;
  }

  async put(key: string, body: Readable, signal?: AbortSignal): Promise<void> {
    try {
      await mkdir(dirname(this.path(key)), { recursive: true, mode: PRIVATE_DIR });
      await pipeline(body, createWriteStream(this.path(key), { mode: PRIVATE_FILE }), { signal });
    } catch (error) {
      throw storageFull(this.url, key, error);
    }
  }

  async get(key: string): Promise<Readable> {
    await stat(this.path(key)).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'ENOENT' ? new Error(`no object ${key} in ${this.url}`) : e;
    });
    return createReadStream(this.path(key), { highWaterMark: 1 << 20 });
  }

  async putText(key: string, text: string): Promise<void> {
    await mkdir(dirname(this.path(key)), { recursive: true, mode: PRIVATE_DIR });
    // Written whole, then renamed: a reader never sees half a manifest.
    const temp = `${this.path(key)}.tmp-${process.pid}`;
    try {
      await writeFile(temp, text, { mode: PRIVATE_FILE });
    } catch (error) {
      await rm(temp, { force: true });
      throw storageFull(this.url, key, error);
    }
    await rename(temp, this.path(key));
  }

  async getText(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    const start = this.path(prefix);
    const walk = async function* (dir: string, root: string): AsyncIterable<string> {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        // A prefix naming one object, not a folder.
        if (code === 'ENOTDIR') return void (yield relative(root, dir));
        throw error;
      }
      for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) yield* walk(full, root);
        else yield relative(root, full);
      }
    };
    yield* walk(start, this.root);
  }

  async deletePrefix(prefix: string): Promise<number> {
    // The store's own folder is never one prefix's to delete.
    if (relative(this.root, this.path(prefix)) === '') throw new Error(`refusing to delete the whole store ${this.url}`);
    let count = 0;
    for await (const _ of this.list(prefix)) count++;
    await rm(this.path(prefix), { recursive: true, force: true });
    return count;
  }
}

class S3Store implements ObjectStore {
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
      // CRC32 of each part would be a second full pass over the dump for nothing.
      requestChecksumCalculation: 'WHEN_REQUIRED',
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
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
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
      throw error;
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
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.key(key),
        Body: text,
        ContentType: 'application/json',
        ...(this.config.server_side_encryption ? { ServerSideEncryption: this.config.server_side_encryption } : {}),
        ...lockFields(this.config, retainUntil),
      }),
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

const DEFAULT_ROOT = fileURLToPath(new URL('../../.data/storage', import.meta.url));

export function defaultStorage(): StorageConfig {
  const key = process.env.REBOUND_MANIFEST_KEY;
  return {
    url: process.env.REBOUND_STORAGE_URL ?? `file://${DEFAULT_ROOT}`,
    region: 'us-east-1',
    force_path_style: true,
    // The worker's default store signs and checks with the worker's key, as a storage block's manifest_key does.
    ...(key ? { manifest_key: key } : {}),
  };
}

export function openStore(config: StorageConfig = defaultStorage()): ObjectStore {
  if (config.url.startsWith('file://')) {
    // The schema refuses this too; a config built by hand (the worker's default) reaches here unchecked.
    if (config.object_lock) {
      throw new ActionError('unsupported_storage', `storage ${config.url} cannot lock objects: object_lock needs an s3:// store`, { retryable: false });
    }
    return new FileStore(config.url, fileStoreRoot(config.url));
  }
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(config.url);
  if (!match) throw new Error(`unsupported storage URL ${config.url}`);
  return new S3Store(config.url, match[1]!, match[2]!.replace(/\/$/, ''), config);
}
