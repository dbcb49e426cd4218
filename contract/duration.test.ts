// Unit tests of durations: parsing runbook durations and printing measured ones without rounding them up.
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.ts';

describe('durations', () => {
  it('parses the units runbooks use and refuses anything else', () => {
    expect(['500ms', '5s', '10m', '1h', '2d', '1.5h'].map(parseDuration)).toEqual([500, 5000, 600_000, 3_600_000, 172_800_000, 5_400_000]);
    expect(['5', '5 m', '1w', ''].map(parseDuration)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('prints the two largest units and never rounds up to the next unit', () => {
    const min = 60_000;
    expect([500, 1500, 8000, min, 90 * min, 89 * min + 59_000, 30 * min, 2 * 86_400_000 + 5 * 60 * min].map(formatDuration)).toEqual([
      '500ms',
      '2s',
      '8s',
      '1m',
      '1h30m',
      '1h29m',
      '30m',
      '2d5h',
    ]);
  });
});
