// Unit tests of how mongodb.dump sizes a collection's cursor batches from its first documents.
import { describe, expect, it } from 'vitest';
import { batchSizeFor } from './dump.ts';

describe('batchSizeFor', () => {
  const input = { batch_size: 1000, batch_bytes: 1 << 20 };

  it('keeps batch_size for small documents', () => {
    expect(batchSizeFor([300, 500, 400], input)).toBe(1000);
  });

  it('cuts the count so a batch of large documents stays near batch_bytes', () => {
    expect(batchSizeFor([10_240, 10_240], input)).toBe(102);
    expect(batchSizeFor([15 << 20, 100], input)).toBe(1);
  });

  it('keeps batch_size for an empty collection', () => {
    expect(batchSizeFor([], input)).toBe(1000);
  });
});
