// Unit tests of the failback of a PostgreSQL promotion: reverted by postgres.reprotect of the old primary on its own site, guarded by the promotion's timeline; manual without a reprotect block; preflights in drills.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/index.ts';
import type { RunStatus } from '../contract/run.ts';
import { buildFailback, describeFailback } from './failback.ts';

const RUNBOOK = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: orders-pg-failover}
spec:
  sites: [dc1, dr]
  secrets: {dr_pg: {env: DR_PG}, dc1_pg: {env: DC1_PG}}
  steps:
    - id: promote
      uses: postgres.promote
      site: dr
      with:
        server: \${{ secrets.dr_pg }}
        primary: \${{ secrets.dc1_pg }}
        max_lag: 30s
        reprotect: {site: dc1, data_dir: /var/lib/postgresql/15/main, run_as: postgres, settings: {config_file: /etc/postgresql/15/main/postgresql.conf}}
`;

const plan = compile(RUNBOOK, { file: 'pg-failover.yaml' }).plan!;
const promoteWith = {
  server: { $secret: 'dr_pg' },
  primary: { $secret: 'dc1_pg' },
  max_lag: '30s',
  reprotect: { site: 'dc1', data_dir: '/var/lib/postgresql/15/main', run_as: 'postgres', settings: { config_file: '/etc/postgresql/15/main/postgresql.conf' } },
};
const outputs = {
  server: '10.2.0.10:5432',
  previous: { role: 'standby', timeline: 1 },
  current: { role: 'primary', timeline: 2 },
  changed: true,
  simulated: false,
  adopted: false,
  timeline: 2,
};
const status = (over: Partial<RunStatus['steps'][number]> = {}): RunStatus => ({
  runbook: plan.name,
  plan_hash: plan.hash,
  mode: 'run',
  state: 'succeeded',
  started_at: '2026-01-01T00:00:00.000Z',
  ended_at: '2026-01-01T00:01:00.000Z',
  steps: [
    {
      id: 'promote',
      uses: 'postgres.promote',
      phase: 'main',
      execution: 'run',
      status: 'succeeded',
      attempt: 1,
      started_at: '2026-01-01T00:00:10.000Z',
      ended_at: '2026-01-01T00:00:20.000Z',
      outputs,
      continue_on_error: false,
      ...over,
    },
  ],
});
const record = (inputs: Record<string, Record<string, unknown>>, s = status()) => ({ workflowId: 'pg-failover-1', plan, status: s, inputs });

describe('failback of postgres.promote', () => {
  it('is postgres.reprotect of the old primary, on its site, following the promoted server, guarded by the new timeline', () => {
    const { plan: failback, items } = buildFailback(record({ promote: promoteWith }), { mode: 'run' });
    expect(items).toMatchObject([{ step: 'promote', action: 'revert', failback_step: 'revert-promote' }]);
    const [step] = failback.steps;
    expect(step).toMatchObject({ uses: 'postgres.reprotect', kind: 'activity', backend: 'postgres', impact: 'production', site: 'dc1', execution: 'run' });
    expect(step!.name).toBe('revert promote (postgres.promote, by postgres.reprotect)');
    expect(step!.with).toEqual({
      source: { $secret: 'dr_pg' },
      data_dir: '/var/lib/postgresql/15/main',
      run_as: 'postgres',
      settings: { config_file: '/etc/postgresql/15/main/postgresql.conf' },
      expect_current: { timeline: 2 },
    });
    expect(failback.sites).toEqual(['dc1', 'dr']);
    expect(describeFailback({ plan: failback, items }, 'pg-failover-1')).toContain(
      'promote (postgres.promote, 2026-01-01T00:00:20.000Z): revert → revert-promote',
    );
  });

  it('--force drops the timeline guard; a drill preflights the reprotect', () => {
    expect(buildFailback(record({ promote: promoteWith }), { mode: 'run', force: true }).plan.steps[0]!.with).not.toHaveProperty('expect_current');
    expect(buildFailback(record({ promote: promoteWith }), { mode: 'drill' }).plan.steps[0]).toMatchObject({
      uses: 'postgres.reprotect',
      execution: 'simulate',
    });
  });

  it('a promotion that failed after pg_promote was issued is reprotected too, unguarded: the timeline it reached is unknown', () => {
    const failed = status({ status: 'failed', outputs: undefined });
    const partial = { promote: { previous: { role: 'standby', timeline: 1 }, target: { role: 'primary', timeline: null } } };
    const { plan: failback, items } = buildFailback({ ...record({ promote: promoteWith }, failed), partial }, { mode: 'run' });
    expect(items[0]).toMatchObject({ action: 'revert' });
    expect(failback.steps[0]).toMatchObject({ uses: 'postgres.reprotect', site: 'dc1' });
    expect(failback.steps[0]!.with).not.toHaveProperty('expect_current');
  });

  it('in a drill the promotion itself is a preflight (production, simulated), never a promotion', () => {
    const drill = compile(RUNBOOK, { file: 'pg-failover.yaml', mode: 'drill' }).plan!;
    expect(drill.steps[0]).toMatchObject({ uses: 'postgres.promote', impact: 'production', execution: 'simulate' });
  });

  it('without a reprotect block a person reprotects the old primary, behind an approval', () => {
    const { reprotect: _r, ...bare } = promoteWith;
    const { plan: failback, items } = buildFailback(record({ promote: bare }), { mode: 'run' });
    expect(items).toMatchObject([{ step: 'promote', action: 'manual', failback_step: 'manual-promote' }]);
    expect(failback.steps[0]).toMatchObject({ uses: 'approval' });
  });
});
