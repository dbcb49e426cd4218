// mongodump's `.bson.gz` files: raw BSON documents back to back, gzipped; written and read as streams, hashed on the way.
import { once } from 'node:events';
import { Transform, pipeline, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { Digest } from '../restore-points/index.ts';
import { ActionError } from '../runtime/errors.ts';

/** The largest document a server accepts (16 MiB) plus the slack mongodump's reader allows. */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024 + 16 * 1024;

/** Documents are copied into one of two reused staging buffers of this size on their way into gzip. */
const STAGE_BYTES = 1 << 20;
/**
 * gzip's output chunk. Node's default (16 KB) costs a thread-pool round trip, and a chunk
 * through the digest and the upload, for every 16 KB stored: 50,000 of each per GB.
 */
const GZIP_CHUNK_BYTES = 256 << 10;

/**
 * A `.bson.gz` object from batches of raw BSON documents (as a cursor returns them): gzip,
 * then sha256 and size of the stored bytes. An error in the source destroys the returned
 * body, so the upload fails too; destroying the body stops reading the source.
 */
export function gzipObject(batches: AsyncIterable<Buffer[]>, level: number, onBytes?: (stored: number) => void): { body: Readable; digest: Digest } {
  const digest = new Digest(onBytes);
  const gzip = createGzip({ level, chunkSize: GZIP_CHUNK_BYTES });
  const body = pipeline(gzip, digest, () => undefined);
  feed(batches, gzip).then(
    () => gzip.end(),
    (error: Error) => gzip.destroy(error),
  );
  return { body, digest };
}

/**
 * Writes the documents into gzip through two staging buffers, one filling while gzip takes
 * in the other. A batch (10 MB for a thousand 10 KB documents) is never copied whole, and
 * the staging buffers are reused, so a dump's copies leave no garbage for the GC to chase.
 */
async function feed(batches: AsyncIterable<Buffer[]>, gzip: Writable): Promise<void> {
  // A destroyed stream never calls back the write it was working on: stop waiting once it closes.
  const closed = once(gzip, 'close').then(() => Promise.reject(new Error('gzip stream closed')));
  closed.catch(() => undefined);
  const write = (chunk: Buffer): Promise<void> => {
    const taken = Promise.race([new Promise<void>((resolve, reject) => gzip.write(chunk, (error) => (error ? reject(error) : resolve()))), closed]);
    taken.catch(() => undefined);
    return taken;
  };
  const stages = [Buffer.allocUnsafe(STAGE_BYTES), Buffer.allocUnsafe(STAGE_BYTES)];
  // A stage is written over only once gzip has called back its last write of it.
  const taken = [Promise.resolve(), Promise.resolve()];
  let current = 0;
  let used = 0;
  const flush = async () => {
    taken[current] = write(stages[current]!.subarray(0, used));
    current ^= 1;
    used = 0;
    await taken[current];
  };
  for await (const documents of batches) {
    for (const document of documents) {
      if (used && used + document.length > STAGE_BYTES) await flush();
      if (document.length > STAGE_BYTES) await write(document);
      else used += document.copy(stages[current]!, used);
    }
  }
  if (used) await flush();
  await Promise.all(taken);
}

/** Splits a byte stream into whole BSON documents without decoding them (each is its int32 length, then that many bytes). */
export class DocumentSplitter {
  private chunks: Buffer[] = [];
  private length = 0;
  /** Documents split so far, for error messages. */
  count = 0;

  constructor(private readonly name: string) {}

  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.length += chunk.length;
    const out: Buffer[] = [];
    while (this.length >= 4) {
      if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks, this.length)];
      const size = this.chunks[0]!.readInt32LE(0);
      if (size < 5 || size > MAX_DOCUMENT_BYTES) throw this.corrupt(`a document of ${size} bytes`);
      if (this.length < size) break;
      const doc = this.take(size);
      if (doc[size - 1] !== 0) throw this.corrupt('a document that does not end in a zero byte');
      this.count++;
      out.push(doc);
    }
    return out;
  }

  /** At the end of the stream: anything left over is half a document. */
  end(): void {
    if (this.length) throw this.corrupt(`${this.length} bytes after the last whole document`);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    this.length -= n;
    if (first.length >= n) {
      const doc = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return doc;
    }
    const parts: Buffer[] = [];
    for (let need = n; need > 0;) {
      const chunk = this.chunks[0]!;
      if (chunk.length <= need) {
        parts.push(chunk);
        this.chunks.shift();
        need -= chunk.length;
      } else {
        parts.push(chunk.subarray(0, need));
        this.chunks[0] = chunk.subarray(need);
        need = 0;
      }
    }
    return Buffer.concat(parts, n);
  }

  private corrupt(what: string): ActionError {
    return new ActionError('verification_failed', `${this.name}: ${what} after ${this.count} documents: not a BSON file`, { retryable: false });
  }
}

export interface Expected {
  name: string;
  size: number;
  sha256: string;
}

/**
 * Reads a stored `.bson.gz` object as batches of whole raw documents (at most about
 * `batchBytes` each, so memory stays bounded), hashing the stored bytes as they arrive.
 * A sha256 or size that differs from the manifest, or gzip data that does not inflate,
 * fails without retry: the object is corrupt, and reading it again will not help.
 */
export async function* readDocuments(source: Readable, expected: Expected, batchBytes: number, signal?: AbortSignal): AsyncGenerator<Buffer[]> {
  const digest = new Digest();
  const inflated = pipeline(source, digest, createGunzip(), () => undefined);
  const splitter = new DocumentSplitter(expected.name);
  let batch: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of inflated as AsyncIterable<Buffer>) {
      signal?.throwIfAborted();
      for (const doc of splitter.push(chunk)) {
        batch.push(doc);
        bytes += doc.length;
        if (bytes >= batchBytes) {
          yield batch;
          batch = [];
          bytes = 0;
        }
      }
    }
  } catch (error) {
    if (isZlibError(error))
      throw new ActionError('verification_failed', `${expected.name} is corrupt: gzip: ${(error as Error).message}`, { retryable: false, cause: error });
    throw error;
  } finally {
    inflated.destroy();
  }
  splitter.end();
  checkStored(expected, digest);
  if (batch.length) yield batch;
}

/**
 * Stored bytes whose sha256 or size differ from the manifest fail without retry: the
 * object is corrupt, and reading it again will not help.
 */
export function checkStored(expected: Expected, read: { bytes: number; sha256: string }): void {
  if (read.sha256 !== expected.sha256 || read.bytes !== expected.size)
    throw new ActionError(
      'verification_failed',
      `${expected.name}: read ${read.bytes} bytes with sha256 ${read.sha256}; the manifest says ${expected.size} bytes, ${expected.sha256}`,
      { retryable: false },
    );
}

/**
 * Passes a `.bson.gz` file's bytes through unchanged while inflating a copy and counting
 * its whole documents, so a file mongodump wrote is counted on its way to storage (and a
 * downloaded one on its way to disk) without a second read. Bytes that are not gzipped
 * BSON fail the stream.
 */
export class DocumentCounter extends Transform {
  private readonly gunzip = createGunzip();
  private readonly splitter: DocumentSplitter;
  /** Inflated bytes so far: the raw BSON's size. */
  bson = 0;

  constructor(name: string) {
    super();
    this.splitter = new DocumentSplitter(name);
    this.gunzip.on('data', (chunk: Buffer) => {
      this.bson += chunk.length;
      try {
        this.splitter.push(chunk);
      } catch (error) {
        this.destroy(error as Error);
      }
    });
    this.gunzip.on('error', (error) =>
      this.destroy(new ActionError('verification_failed', `${name} is corrupt: gzip: ${error.message}`, { retryable: false, cause: error })),
    );
  }

  get documents(): number {
    return this.splitter.count;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    // Passed on once inflated: a source faster than gunzip would otherwise queue up in memory.
    this.gunzip.write(chunk, () => done(null, chunk));
  }

  override _flush(done: TransformCallback): void {
    this.gunzip.once('end', () => {
      try {
        this.splitter.end();
        done();
      } catch (error) {
        done(error as Error);
      }
    });
    this.gunzip.end();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.gunzip.destroy();
    done(error);
  }
}

const isZlibError = (error: unknown) => typeof (error as { code?: unknown })?.code === 'string' && /^Z_/.test((error as { code: string }).code);
