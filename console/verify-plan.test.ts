// The one-step verification plan the restore-points page starts: backup.verify of the point, the scratch URL only as the worker's environment variable, the console's store when it was given one.
import { describe, expect, it } from 'vitest';
import { ENV_NAME, verifyPlan } from './verify-plan.ts';

describe('verifyPlan', () => {
  it('compiles backup.verify of the point, naming the store and the scratch variable (a secret reference, not a value)', () => {
    const { plan, error } = verifyPlan({ point: '20261207T000000Z-abcd1234', scratchEnv: 'PG_SCRATCH_URL', storageUrl: 'file:///var/backups' });
    expect(error).toBeUndefined();
    expect(plan!.steps).toHaveLength(1);
    expect(plan!.steps[0]).toMatchObject({ id: 'verify', uses: 'backup.verify' });
    expect(plan!.steps[0]!.with).toMatchObject({ restore_point: '20261207T000000Z-abcd1234', storage: { url: 'file:///var/backups' } });
    expect(JSON.stringify(plan)).toContain('PG_SCRATCH_URL');
  });

  it("without a store or scratch variable the worker's defaults apply", () => {
    const { plan } = verifyPlan({ point: 'p1' });
    expect(plan!.steps[0]!.with).toEqual({ restore_point: 'p1' });
  });

  it('takes only environment variable names for the scratch server, never a URL', () => {
    expect(ENV_NAME.test('PG_SCRATCH_URL')).toBe(true);
    expect(ENV_NAME.test('postgres://u:p@db/x')).toBe(false);
    expect(ENV_NAME.test('pg_url')).toBe(false);
  });
});
