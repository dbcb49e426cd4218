// Scans the activities for failure codes written as strings where the type system does not look (Temporal failure types, error classes' code fields): each must be a catalog code.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isFailureCode } from '../../contract/failures.ts';

const root = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every literal code a file raises: ActionError-family constructors, ApplicationFailure types, `code` fields and sets of codes. */
const CODE_PLACES = [
  /new [A-Z]\w*(?:Error|Failure)\(\s*'([a-z_0-9]+)'/g,
  /new [A-Z]\w*(?:Error|Failure)\(\s*[^,()]*\?\s*'([a-z_0-9]+)'\s*:\s*'([a-z_0-9]+)'/g,
  /ApplicationFailure\.\w+\(\{[^}]*\btype:\s*'([^']+)'/g,
  /ApplicationFailure\.(?:nonRetryable|retryable)\([^,]+,\s*'([^']+)'/g,
  /readonly code(?::\s*\w+)?\s*=\s*'([^']+)'/g,
  // Comparisons that branch on a code (errno codes such as ENOENT are upper case, and not ours).
  /\b(?:error|failure|e)\.code\s*[!=]==\s*'([a-z][a-z_0-9]*)'/g,
];

function literalCodes(text: string): string[] {
  return CODE_PLACES.flatMap((pattern) => [...text.matchAll(pattern)].flatMap((m) => m.slice(1).filter((c): c is string => c !== undefined)));
}

describe('failure codes in activities/', () => {
  const files = sources(root);
  const found = files.flatMap((file) => literalCodes(readFileSync(file, 'utf8')).map((code) => ({ file: relative(root, file), code })));

  it('finds the codes it scans for (the scan itself works)', () => {
    expect(found.length).toBeGreaterThan(150);
    expect(literalCodes(`throw new ActionError('unauthorized', 'x'); ApplicationFailure.create({ message, type: 'untrusted_plan' })`)).toEqual([
      'unauthorized',
      'untrusted_plan',
    ]);
  });

  it('raises only catalog codes', () => {
    expect(found.filter(({ code }) => !isFailureCode(code))).toEqual([]);
  });
});
