// docs/failure-codes.md is what scripts/docs/failure-codes.ts renders from the catalog: fails when the committed page is stale.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { page } from '../scripts/docs/failure-codes.ts';

describe('docs/failure-codes.md', () => {
  it('is the page the catalog renders (regenerate it with scripts/docs/failure-codes.ts)', () => {
    expect(readFileSync(page.path, 'utf8')).toBe(page.render());
  });
});
