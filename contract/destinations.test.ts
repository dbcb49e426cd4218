// Where a secret goes: prefixes and `*` segments of an action's secret_destinations table.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAction } from './action.ts';
import { destinationOf } from './destinations.ts';

const spec = defineAction({
  name: 't',
  summary: 't',
  kind: 'activity',
  backend: 't',
  impact: 'read',
  secret_destinations: { headers: 'url', 'channels.*.email.password': 'channels.*.email.host' },
  input: z.object({}),
  output: z.object({}),
});

describe('destinationOf', () => {
  it('maps a prefix to its destination', () => {
    expect(destinationOf(spec, ['headers', 'Authorization'])).toBe('url');
    expect(destinationOf(spec, ['storage', 'secret_key'])).toBe('storage.endpoint');
  });
  it('a * segment stands for the same key or index in the destination', () => {
    expect(destinationOf(spec, ['channels', 2, 'email', 'password'])).toBe('channels.2.email.host');
    expect(destinationOf(spec, ['channels', 0, 'slack', 'url'])).toBeUndefined();
    expect(destinationOf(spec, ['channels', 1, 'email'])).toBeUndefined();
  });
});
