// Real Alertmanager → `rebound serve` → real Temporal: a batch where one start fails is answered 503, and Alertmanager's retry starts the missing run and attaches to the one that started.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { alertWorkflowId } from '../../client/dedup.ts';
import { startAlertmanager, type AlertmanagerServer } from '../../stack/alertmanager.ts';
import { startGrpcRelay, type GrpcRelay } from '../helpers/grpc-relay.ts';
import { connect, uniqueSite } from '../helpers/runs.ts';
import { alertmanagerBody, postAlert, startServeProcess, type ServeProcess } from '../helpers/serve-process.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const token = `tok-${randomBytes(16).toString('hex')}`;
const runbook = `mixed-${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'rebound-alertmanager-e2e-'));
// Held at an approval, so the first run is surely still running when the retry arrives.
writeFileSync(
  join(dir, 'mixed.yaml'),
  `apiVersion: rebound/v1
kind: Runbook
metadata: {name: ${runbook}}
spec:
  triggers:
    alert: {match: {alertname: MixedDown}, dedup_key: "\${{ trigger.alert.labels.service }}"}
  steps:
    - {id: gate, uses: approval, with: {timeout: 10m}}
`,
);
const idA = alertWorkflowId(runbook, 'a');
const idB = alertWorkflowId(runbook, 'b');
const SLOW = 300_000;

describe('Alertmanager retries what serve answered 503, and the retry attaches to what did start', () => {
  let relay: GrpcRelay;
  let worker: WorkerProcess;
  let serve: ServeProcess;
  let alertmanager: AlertmanagerServer;
  let client: Client;

  beforeAll(async () => {
    const address = inject('temporalAddress');
    const site = uniqueSite('alertmanager');
    relay = await startGrpcRelay(address);
    relay.failStarts(idB);
    // serve reaches Temporal only through the relay; the worker and this test go straight to it.
    [worker, serve, client] = await Promise.all([
      startWorkerProcess({ address, site, bundle: inject('workflowBundle') }),
      startServeProcess({ address: relay.address, site, runbooks: dir, env: { REBOUND_SERVE_TOKEN: token } }),
      connect(address),
    ]);
    alertmanager = await startAlertmanager({ receiver: { url: `${serve.url}/v1/alerts/alertmanager`, bearerToken: token } });
  }, SLOW);
  afterAll(async () => {
    for (const id of [idA, idB]) {
      await client?.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    }
    await Promise.all([alertmanager?.stop(), serve?.kill(), worker?.kill()]);
    await relay?.close();
  });

  // Every run ever made under this id; visibility trails a start, so this waits for at least one.
  const runsOf = async (workflowId: string): Promise<string[]> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const runs: string[] = [];
      for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run.runId);
      if (runs.length || Date.now() > deadline) return runs;
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const running = async (workflowId: string, timeoutMs = 120_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await client.workflow
        .getHandle(workflowId)
        .describe()
        .catch(() => undefined);
      if (found?.status.name === 'RUNNING') return found.runId;
      if (Date.now() > deadline) throw new Error(`${workflowId} is not running after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  it(
    'one start of two fails: 503 with both decisions; once it can start, the retry starts it and attaches to the other',
    async () => {
      await alertmanager.postAlerts([{ labels: { alertname: 'MixedDown', service: 'a' } }, { labels: { alertname: 'MixedDown', service: 'b' } }]);
      // Alertmanager's own delivery met the held fault: serve logged b's start as failed.
      await serve.waitFor(/"decision":"error"[^\n]*"dedup_key":"b"/, 0, 120_000);
      const runA = await running(idA);
      expect(relay.failed(idB)).toBeGreaterThan(0);

      // The same batch by hand, while the fault holds: the answer a sender sees.
      const body = alertmanagerBody([{ labels: { alertname: 'MixedDown', service: 'a' } }, { labels: { alertname: 'MixedDown', service: 'b' } }]);
      const answer = await postAlert(`${serve.url}/v1/alerts/alertmanager`, body, { token });
      expect(answer.status).toBe(503);
      const decisions = answer.body.decisions as Array<{ decision: string; run?: string; error?: string }>;
      expect(decisions.map((d) => d.decision)).toEqual(['deduplicated', 'error']);
      expect(decisions[0]!.run).toBe(idA);
      expect(decisions[1]!.error).toMatch(/could not start the run/);
      await expect(client.workflow.getHandle(idB).describe()).rejects.toThrow(/not found/i);

      const before = serve.output().length;
      relay.release();
      // Nothing posts from here on but Alertmanager, retrying what it was answered 503 for.
      await running(idB);
      await serve.waitFor(/"decision":"started"[^\n]*"dedup_key":"b"/, before, 60_000);
      expect(serve.output().slice(before)).toMatch(/"decision":"deduplicated"[^\n]*"dedup_key":"a"/);
      expect(await runsOf(idA)).toEqual([runA]);
      expect(await runsOf(idB)).toEqual([await running(idB)]);
    },
    SLOW,
  );
});
