import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../activities/catalog.ts';
import { IMPLEMENTATIONS } from '../../activities/index.ts';
import { mask, resolveSecrets } from '../../activities/runtime/secrets.ts';

describe('the action catalog', () => {
  it('every activity action has an implementation, and every implementation is in the catalog', () => {
    const activityActions = [...ACTIONS.values()].filter((a) => a.kind === 'activity').map((a) => a.name).sort();
    expect(IMPLEMENTATIONS.map((i) => i.spec.name).sort()).toEqual(activityActions);
    for (const impl of IMPLEMENTATIONS) expect(ACTIONS.get(impl.spec.name)).toBe(impl.spec);
  });

  it('every action declares impact, backend, and input and output schemas', () => {
    for (const action of ACTIONS.values()) {
      expect(['read', 'write', 'production']).toContain(action.impact);
      expect(action.backend).toBeTruthy();
      expect(action.input.safeParse).toBeTypeOf('function');
      expect(action.output.safeParse).toBeTypeOf('function');
    }
  });
});

describe('masking', () => {
  it('masks secret values, URL-encoded values and URL passwords', () => {
    expect(mask('token=p@ss/word and p%40ss%2Fword', ['p@ss/word'])).toBe('token=*** and ***');
    expect(mask('postgres://admin:hunter2@db:5432/x failed', [])).toBe('postgres://admin:***@db:5432/x failed');
  });

  it('masks the password of a connection-URL secret when it shows up on its own', async () => {
    process.env.REBOUND_TEST_PG_URL = 'postgres://app:s%40fe-Pa55@db.internal:5432/orders';
    const { value, secrets } = await resolveSecrets({ $secret: 'pg' }, { pg: { env: 'REBOUND_TEST_PG_URL' } });
    expect(value).toBe('postgres://app:s%40fe-Pa55@db.internal:5432/orders');
    expect(mask('tool said: bad password s@fe-Pa55 for app', secrets)).toBe('tool said: bad password *** for app');
    delete process.env.REBOUND_TEST_PG_URL;
  });
});
