// A pass-through stream that counts bytes and computes their sha256, so restore-point objects are hashed on their way to or from storage.
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

/**
 * Passes bytes through while counting them and computing their sha256, so a dump is
 * hashed on its way to storage — no temporary copy on local disk.
 */
export class Digest extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  private result?: string;

  constructor(private readonly onProgress?: (bytes: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onProgress?.(this.bytes);
    done(null, chunk);
  }

  get sha256(): string {
    this.result ??= this.hash.digest('hex');
    return this.result;
  }
}
