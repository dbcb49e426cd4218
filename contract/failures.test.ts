// Unit tests of the failure-code catalog: older names map to one code each, never to themselves, and non_retryable lists keep what they had.
import { describe, expect, it } from 'vitest';
import { FAILURE_CODES, isFailureCode, nonRetryableTypes, replacedBy, replacementOf, searchFailureCode, type FailureCode } from './failures.ts';

const codes = Object.keys(FAILURE_CODES) as FailureCode[];

describe('failure codes', () => {
  it('give every code a one-line meaning', () => {
    for (const code of codes) expect(FAILURE_CODES[code].meaning, code).toMatch(/^[^\n]{10,140}$/);
  });

  it('map each older name to one code, and no older name is a code', () => {
    const older = codes.flatMap((code) => replacedBy(code).map((name) => [name, code] as const));
    expect(new Set(older.map(([name]) => name)).size).toBe(older.length);
    for (const [name, code] of older) {
      expect(isFailureCode(name), name).toBe(false);
      expect(replacementOf(name)).toBe(code);
    }
    // The synonyms the catalog ends.
    expect(['authentication_failed', 'unauthorized', 'forbidden', 'denied', 'permission_denied'].map(replacementOf)).toEqual(Array(5).fill('auth_failed'));
    expect(replacementOf('unavailable')).toBe('unreachable');
  });

  it('know no replacement for a current code or a name nobody used', () => {
    expect(replacementOf('auth_failed')).toBeUndefined();
    expect(replacementOf('authentication_faild')).toBeUndefined();
    expect(replacementOf('constructor')).toBeUndefined();
    expect(isFailureCode('constructor')).toBe(false);
  });

  it('read a search error type as the code for it, rejected by default', () => {
    expect(searchFailureCode('index_not_found_exception')).toBe('not_found');
    expect(searchFailureCode('resource_already_exists_exception')).toBe('conflict');
    expect(searchFailureCode('illegal_argument_exception')).toBe('rejected');
    expect(replacementOf('snapshot_restore_exception')).toBe('rejected');
  });

  it('list each name as written and, after an older one, its code once', () => {
    expect(nonRetryableTypes([])).toEqual([]);
    expect(nonRetryableTypes(['timeout', 'conflict'])).toEqual(['timeout', 'conflict']);
    expect(nonRetryableTypes(['unauthorized', 'auth_failed', 'forbidden'])).toEqual(['unauthorized', 'auth_failed', 'forbidden']);
    expect(nonRetryableTypes(['wait_timeout', 'no_such_code'])).toEqual(['wait_timeout', 'timeout', 'no_such_code']);
    // A list that already holds every code it needs comes back unchanged: the interpreter then writes no marker.
    const current = nonRetryableTypes(['zone_not_found']);
    expect(nonRetryableTypes(current)).toEqual(current);
  });
});
