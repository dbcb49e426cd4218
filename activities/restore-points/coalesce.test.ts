// Unit tests of the chunk coalescer in front of multipart uploads: the bytes unchanged, in full-size buffers but the last.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { coalesce } from './coalesce.ts';

describe('coalesce', () => {
  it('passes every byte through in order, in buffers of the given size except the last', async () => {
    const chunks = Array.from({ length: 300 }, (_, i) => Buffer.alloc(37 + (i % 5) * 1000, i % 251));
    const out: Buffer[] = [];
    for await (const b of Readable.from(chunks).pipe(coalesce(4096))) out.push(b as Buffer);
    expect(Buffer.concat(out).equals(Buffer.concat(chunks))).toBe(true);
    expect(out.slice(0, -1).every((b) => b.length === 4096)).toBe(true);
    expect(out.at(-1)!.length).toBeGreaterThan(0);
    expect(out.at(-1)!.length).toBeLessThanOrEqual(4096);
  });

  it('passes large chunks through uncopied when nothing is gathered before them, every byte still in order', async () => {
    const big = Buffer.alloc(2048, 1);
    const chunks = [big, Buffer.alloc(100, 2), Buffer.alloc(3000, 3), Buffer.alloc(5000, 4), big];
    const out: Buffer[] = [];
    for await (const b of Readable.from(chunks).pipe(coalesce(4096, 1024))) out.push(b as Buffer);
    expect(Buffer.concat(out).equals(Buffer.concat(chunks))).toBe(true);
    expect(out[0]).toBe(big);
    expect(out.filter((b) => b === big).length).toBe(1);
  });

  it('an empty stream stays empty', async () => {
    const out: Buffer[] = [];
    for await (const b of Readable.from([]).pipe(coalesce(16))) out.push(b as Buffer);
    expect(out).toEqual([]);
  });
});
