// Gathers a stream's small chunks (pg_dump writes 4 KB at a time) into large buffers before the multipart upload holds them.
import { Transform } from 'node:stream';

/**
 * lib-storage keeps every chunk of a part until the part is full: thousands of 4 KB buffers
 * per part, long-lived enough to reach the old generation, which made full GCs the
 * largest cost of a dump into S3. Copied once into `size` buffers, they die young. Chunks of
 * `large` bytes or more, with nothing gathered before them, pass through as they are.
 */
export function coalesce(size = 1 << 20, large = size >> 2): Transform {
  let buffer = Buffer.allocUnsafe(size);
  let used = 0;
  return new Transform({
    // Object mode: a reader gets each buffer as it is, never several joined by another copy.
    readableObjectMode: true,
    readableHighWaterMark: 4,
    transform(chunk: Buffer, _encoding, done) {
      // Large chunks (gzip's 256 KB output in a MongoDB dump) are few as they are: a copy would only be garbage.
      if (used === 0 && chunk.length >= large) {
        this.push(chunk);
        return done();
      }
      let offset = 0;
      while (offset < chunk.length) {
        const n = chunk.copy(buffer, used, offset);
        used += n;
        offset += n;
        if (used === size) {
          this.push(buffer);
          buffer = Buffer.allocUnsafe(size);
          used = 0;
        }
      }
      done();
    },
    flush(done) {
      if (used) this.push(buffer.subarray(0, used));
      done();
    },
  });
}
