// loadPosture and loadDrillHistory against the real Temporal dev server, drills run by a `rebound worker` process, and a file-store catalog of hand-written points.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { openRestorePoints } from '../../activities/restore-points/index.ts';
import { loadDrillHistory, type DrillRecord } from '../../client/drill-history.ts';
import { loadPosture } from '../../client/posture.ts';
import { loadEvidence } from '../../console/evidence.ts';
import { finalStatus } from '../../client/runs.ts';
import { voteAs } from '../helpers/approvals.ts';
import { writePoint } from '../helpers/points.ts';
import { connect, planOf, start, stepOf, uniqueSite, waitFor } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const site = uniqueSite('posture');
// Names of their own: every test file shares one Temporal server, and visibility is searched by runbook name.
const drillName = `drill-${site}`;
const backupName = `backup-${site}`;
let worker: WorkerProcess;
let client: Client;

const drillText = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: ${drillName}}
spec:
  objectives: {rto: 1h, rpo: 2h}
  steps:
    - {id: gate, uses: approval, with: {message: "drill?", timeout: 5m}}
    - {id: restore, uses: log, needs: [gate], with: {message: restoring}}
    - {id: check, uses: log, with: {message: checked}}
`;
const backupText = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: ${backupName}}
spec:
  objectives: {rpo: 2h}
  triggers: {schedule: {cron: "0 3 * * *"}}
  secrets: {pg: {env: PG_URL}}
  steps:
    - {id: orders, uses: postgres.dump, with: {source: "\${{ secrets.pg }}", service: orders-pg, storage: {url: "file:///unused"}, labels: {tier: gold}}}
    - {id: ledger, uses: postgres.dump, with: {source: "\${{ secrets.pg }}", service: ledger-pg, storage: {url: "file:///unused"}}}
`;

/** Runs one drill to its end, its gate approved by `who` (a signed vote, as the approval service casts it). */
async function drill(who: string): Promise<void> {
  const handle = await start(client, planOf(drillText, { mode: 'drill' }), site);
  await waitFor(handle, (s) => stepOf(s, 'gate').status === 'running');
  await voteAs(client, handle.workflowId, 'gate', who);
  expect((await finalStatus(handle)).state).toBe('succeeded');
}

/** Visibility is eventually consistent: wait until it lists `n` closed drills. */
async function history(n: number): Promise<DrillRecord[]> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
    const records = await loadDrillHistory(client, drillName);
    if (records.length >= n && records.every((r) => r.state !== 'running')) return records;
  }
  throw new Error(`visibility never listed ${n} closed drills of ${drillName}`);
}

beforeAll(async () => {
  worker = await startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), startTimeoutMs: 120_000 });
  client = await connect(inject('temporalAddress'));
  for (const who of ['alice', 'bob', 'carol']) await drill(who);
}, 300_000);

afterAll(async () => {
  await worker?.kill();
  await client?.connection.close();
});

describe('posture from real runs and a real catalog', () => {
  it('gives the drill history newest first, with measured RTO against the objective and who approved', async () => {
    const records = await history(3);
    expect(records).toHaveLength(3);
    expect(records.map((r) => r.approvals[0]?.approved_by)).toEqual([['carol'], ['bob'], ['alice']]);
    const times = records.map((r) => Date.parse(r.started_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    for (const r of records) {
      expect(r).toMatchObject({ mode: 'drill', state: 'succeeded', trigger: { kind: 'manual' }, objectives: { rto_ms: 3_600_000, rpo_ms: 7_200_000 } });
      expect(r.rto).toMatchObject({ objective_ms: 3_600_000, met: true });
      expect(r.rto!.measured_ms).toBeGreaterThan(0);
      expect(r.approvals[0]).toMatchObject({ step: 'gate', decision: 'approved' });
      expect(r.approvals[0]!.votes.filter((v) => v.counted)).toHaveLength(1);
    }
  });

  it('colours the services runbooks back up against the RPO, and gives each runbook its last drill and trend', async () => {
    await history(3);
    const root = mkdtempSync(join(tmpdir(), 'rebound-posture-'));
    const now = Date.now();
    const ago = (ms: number) => new Date(now - ms).toISOString();
    writePoint(root, { service: 'orders-pg', completed_at: ago(30 * 60_000), status: 'verified' });
    writePoint(root, { service: 'ledger-pg', completed_at: ago(5 * 3_600_000), status: 'verified' });
    writePoint(root, { service: 'ledger-pg', completed_at: ago(6 * 3_600_000) });
    writePoint(root, { service: 'audit', completed_at: ago(60_000), status: 'failed' });
    const runbooks = [
      { file: 'drill.yaml', plan: planOf(drillText) },
      { file: 'backup.yaml', plan: planOf(backupText) },
    ];
    const store = openRestorePoints({ url: `file://${root}`, region: 'us-east-1', force_path_style: true });
    // What the restore-points page shows beside each verdict: the verification's own record.
    const evidence = await loadEvidence(store, await store.list({ limit: 50 }));
    expect([...evidence.values()].map((e) => e.detail)).toEqual(['by hand', 'by hand', 'by hand']);
    const posture = await loadPosture({
      client,
      runbooks,
      points: store,
      now,
    });
    expect(posture.catalog).toBe(`file://${root}`);
    const services = Object.fromEntries(posture.services.map((s) => [s.service, s]));
    expect(services['orders-pg']).toMatchObject({ colour: 'green', rpo_ms: 7_200_000, labels: { tier: 'gold' }, runbooks: [backupName], age_ms: 30 * 60_000 });
    expect(services['ledger-pg']).toMatchObject({ colour: 'red', problem: 'older than the RPO' });
    // Only the catalog knows audit: no runbook gives it an objective, so the restore-points page lists it, not posture.
    expect(services.audit).toBeUndefined();
    expect(services['orders-pg']!.last_verification?.status).toBe('verified');
    expect(Date.parse(services['orders-pg']!.next_backup!)).toBeGreaterThan(now);
    expect(new Date(services['orders-pg']!.next_backup!).getUTCHours()).toBe(3);
    // Failing or stale first.
    expect(posture.services.at(-1)!.service).toBe('orders-pg');
    const drillRow = posture.runbooks.find((r) => r.runbook === drillName)!;
    expect(drillRow).toMatchObject({ colour: 'green', last_drill: { state: 'succeeded', rto: { met: true } }, last_run: { mode: 'drill' } });
    expect(drillRow.trend).toHaveLength(3);
    expect(posture.runbooks.find((r) => r.runbook === backupName)).toMatchObject({
      colour: 'amber',
      problem: 'never drilled',
      services: ['ledger-pg', 'orders-pg'],
    });
  });
});
