// The object stores that hold restore points: the interface, the local folder store (file://), and opening a store by URL (s3:// in s3-store.ts).
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { StorageConfig } from '../../contract/storage.ts';
import { ActionError } from '../runtime/errors.ts';
import { S3Store } from './s3-store.ts';

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
  const refuse = (what: string) => new ActionError('invalid_input', `storage ${url} refuses ${root} (${what}): name a folder of its own`, { retryable: false });
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
      throw new ActionError('unsupported', `storage ${config.url} cannot lock objects: object_lock needs an s3:// store`, { retryable: false });
    }
    return new FileStore(config.url, fileStoreRoot(config.url));
  }
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(config.url);
  if (!match) throw new Error(`unsupported storage URL ${config.url}`);
  return new S3Store(config.url, match[1]!, match[2]!.replace(/\/$/, ''), config);
}
