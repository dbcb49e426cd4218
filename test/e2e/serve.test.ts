// `rebound serve` as a process against the real Temporal server and a worker process: auth, limits, dedup, cooldown, reload.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { finalStatus, startRun } from '../../client/runs.ts';
import { loadRunbooks } from '../../serve/runbooks.ts';
import { alertmanagerBody, postAlert, startServeProcess, type ServeProcess } from '../helpers/serve-process.ts';
import { connect, uniqueSite } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const keys = { token: `tok-${randomBytes(16).toString('hex')}`, hmacKey: `hmac-${randomBytes(16).toString('hex')}` };
const env = { REBOUND_SERVE_TOKEN: keys.token, REBOUND_SERVE_HMAC_KEY: keys.hmacKey };
const suffix = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'rebound-serve-'));
const head = (name: string) => `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: ${name}-${suffix}}\nspec:\n`;
const name = (base: string) => `${base}-${suffix}`;

// Held at an approval so the run is surely still running while duplicates arrive.
writeFileSync(
  join(dir, 'storm.yaml'),
  `${head('storm')}  parameters: {service: {type: string, required: true}}
  triggers:
    alert:
      match: {alertname: "/Storm(Down|Dead)/"}
      params: {service: "\${{ trigger.alert.labels.service }}"}
      dedup_key: "\${{ trigger.alert.labels.service }}"
  steps:
    - {id: gate, uses: approval, with: {timeout: 10m}}
`,
);
// Its cooldown leaves room for a loaded machine: the repeat sent as the run ends must fall inside it.
writeFileSync(
  join(dir, 'quick.yaml'),
  `${head('quick')}  parameters: {summary: {type: string, default: none}}
  triggers:
    alert:
      match: {alertname: QuickDown}
      params: {summary: "\${{ trigger.alert.annotations.summary }}"}
      dedup_key: "\${{ trigger.alert.labels.service }}"
      cooldown: 15s
  steps:
    - {id: say, uses: log, with: {message: "\${{ trigger.kind }} \${{ trigger.alert.labels.service }} \${{ params.summary }} \${{ trigger.alert.fingerprint }}"}}
`,
);

// A parent whose child run is held at an approval: its id is `<parent>.sub` while alerts arrive.
writeFileSync(join(dir, 'nest-child.yaml'), `${head('nest-child')}  steps:\n    - {id: gate, uses: approval, with: {timeout: 10m}}\n`);
writeFileSync(
  join(dir, 'nest.yaml'),
  `${head('nest')}  triggers:
    alert: {match: {alertname: NestDown}, dedup_key: "\${{ trigger.alert.labels.service }}"}
  steps:
    - {id: sub, uses: runbook, with: {path: nest-child.yaml}}
`,
);
writeFileSync(
  join(dir, 'typed.yaml'),
  `${head('typed')}  parameters: {n: {type: number, required: true}}
  triggers:
    alert: {match: {alertname: TypedDown}, params: {n: "\${{ trigger.alert.labels.n }}"}}
  steps:
    - {id: a, uses: log, with: {message: typed}}
`,
);
// Temporal refuses a workflow id over 1000 characters (INVALID_ARGUMENT): a start that can never succeed.
const LONG = `long${'g'.repeat(990)}`;
writeFileSync(
  join(dir, 'long.yaml'),
  `${head(LONG)}  triggers:\n    alert: {match: {alertname: LongDown}}\n  steps:\n    - {id: a, uses: log, with: {message: x}}\n`,
);

// Processes start slowly on a shared, loaded machine: room for that, never a speed assertion.
const SLOW = 300_000;
const alertmanager = (s: ServeProcess) => `${s.url}/v1/alerts/alertmanager`;
const storm = (service: string) => alertmanagerBody([{ labels: { alertname: 'StormDown', service } }]);

describe('rebound serve (process) with the real Temporal server and a worker process', () => {
  let worker: WorkerProcess;
  let serve: ServeProcess;
  let client: Client;
  const site = uniqueSite('serve');

  beforeAll(async () => {
    const address = inject('temporalAddress');
    [worker, serve, client] = await Promise.all([
      startWorkerProcess({ address, site, bundle: inject('workflowBundle') }),
      startServeProcess({ address, site, runbooks: dir, env }),
      connect(address),
    ]);
  });
  afterAll(async () => {
    const held = `(ReboundRunbook = '${name('storm')}' OR ReboundRunbook = '${name('nest')}' OR ReboundRunbook = '${name('nest-child')}')`;
    for await (const run of client.workflow.list({ query: `${held} AND ExecutionStatus = 'Running'` })) {
      await client.workflow
        .getHandle(run.workflowId)
        .terminate('test over')
        .catch(() => undefined);
    }
    await Promise.all([serve?.kill(), worker?.kill()]);
  });

  const executions = async (query: string, expected: number): Promise<string[]> => {
    let ids: string[] = [];
    // Visibility trails the start by a moment (longer on a loaded machine); wait for what must be there, then look for extras.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      ids = [];
      for await (const run of client.workflow.list({ query })) ids.push(`${run.workflowId}/${run.runId}`);
      if (ids.length >= expected) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    return ids;
  };

  it(
    '50 identical alerts sent at once start exactly one run; the rest attach to it',
    async () => {
      const results = await Promise.all(Array.from({ length: 50 }, () => postAlert(alertmanager(serve), storm('orders'), keys)));
      const started = results.filter((r) => r.status === 202);
      const attached = results.filter((r) => r.status === 200 && r.body.deduplicated === true);
      expect(started).toHaveLength(1);
      expect(attached).toHaveLength(49);
      expect(new Set(results.map((r) => r.body.run))).toEqual(new Set([started[0]!.body.run]));
      expect(await executions(`ReboundRunbook = '${name('storm')}' AND WorkflowId = '${started[0]!.body.run}'`, 1)).toHaveLength(1);
    },
    SLOW,
  );

  it(
    '5 services × 10 alerts at once start exactly 5 runs, one per dedup key',
    async () => {
      const services = ['s1', 's2', 's3', 's4', 's5'];
      const posts = services.flatMap((s) => Array.from({ length: 10 }, () => postAlert(alertmanager(serve), storm(s), keys)));
      const results = await Promise.all(posts);
      expect(results.filter((r) => r.status === 202)).toHaveLength(5);
      expect(new Set(results.map((r) => r.body.run)).size).toBe(5);
      const query = `ReboundRunbook = '${name('storm')}' AND WorkflowId STARTS_WITH '${name('storm')}:alert:s'`;
      expect(await executions(query, 5)).toHaveLength(5);
    },
    SLOW,
  );

  it(
    'a run reads trigger.*; a repeat inside the cooldown is suppressed, after it a new run starts',
    async () => {
      const body = alertmanagerBody([{ labels: { alertname: 'QuickDown', service: 'pay' }, annotations: { summary: 'pay-down' } }]);
      const first = await postAlert(alertmanager(serve), body, keys);
      expect(first).toMatchObject({ status: 202, body: { run: `${name('quick')}:alert:pay` } });
      const status = await finalStatus(client.workflow.getHandle(String(first.body.run)));
      expect(status.steps[0]!.outputs).toMatchObject({ message: 'alert pay pay-down fp0QuickDownpay' });

      const again = await postAlert(alertmanager(serve), body, keys);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ suppressed: first.body.run });
      const until = Date.parse(String(again.body.until));
      await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 1000));
      const after = await postAlert(alertmanager(serve), body, keys);
      expect(after).toMatchObject({ status: 202, body: { run: first.body.run } });
      await finalStatus(client.workflow.getHandle(String(after.body.run)));
    },
    SLOW,
  );

  it(
    'resolved alerts start nothing and are logged',
    async () => {
      const resolved = alertmanagerBody([{ labels: { alertname: 'QuickDown', service: 'resolved-only' }, status: 'resolved' }]);
      const from = serve.output().length;
      const result = await postAlert(alertmanager(serve), resolved, keys);
      expect(result).toMatchObject({ status: 200, body: { decisions: [{ decision: 'resolved', runbook: name('quick') }] } });
      await serve.waitFor('"decision":"resolved"', from);
      await expect(client.workflow.getHandle(`${name('quick')}:alert:resolved-only`).describe()).rejects.toThrow(/not found/i);
    },
    SLOW,
  );

  it(
    'wrong token, bad signature, malformed JSON, bad payload and an oversized body are refused; nothing starts',
    async () => {
      const body = alertmanagerBody([{ labels: { alertname: 'QuickDown', service: 'refused' } }]);
      expect(await postAlert(alertmanager(serve), body, { ...keys, token: 'wrong' })).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
      expect(await postAlert(alertmanager(serve), body, { ...keys, hmacKey: 'wrong' })).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
      expect((await postAlert(alertmanager(serve), body, { token: keys.token })).status).toBe(401);
      // A captured signed request sent again six minutes later: outside the window.
      expect(await postAlert(alertmanager(serve), body, keys, {}, Date.now() - 6 * 60_000)).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
      const malformed = await postAlert(alertmanager(serve), '{"version": "4", "alerts": [', keys);
      expect(malformed.status).toBe(400);
      expect(String(malformed.body.error)).toContain('malformed JSON');
      const shapeless = await postAlert(`${serve.url}/v1/alerts`, { labels: { alertname: 3 } }, keys);
      expect(shapeless.status).toBe(400);
      expect(String(shapeless.body.error)).toContain('labels.alertname');
      const huge = { ...body, padding: 'x'.repeat(1024 * 1024 + 10) };
      expect((await postAlert(alertmanager(serve), huge, keys)).status).toBe(413);
      await expect(client.workflow.getHandle(`${name('quick')}:alert:refused`).describe()).rejects.toThrow(/not found/i);
      expect(serve.output()).not.toContain(keys.token);
      expect(serve.output()).not.toContain(keys.hmacKey);
    },
    SLOW,
  );

  it(
    'a restarted serve still deduplicates: the state is Temporal’s',
    async () => {
      const first = await postAlert(alertmanager(serve), storm('restart'), keys);
      expect(first.status).toBe(202);
      await serve.kill();
      serve = await startServeProcess({ address: inject('temporalAddress'), site, runbooks: dir, env });
      const again = await postAlert(alertmanager(serve), storm('restart'), keys);
      expect(again).toMatchObject({ status: 200, body: { run: first.body.run, deduplicated: true } });
    },
    SLOW,
  );

  it(
    'the generic route, health, readiness and metrics',
    async () => {
      const generic = await postAlert(`${serve.url}/v1/alerts`, { labels: { alertname: 'StormDead', service: 'generic' } }, keys);
      expect(generic).toMatchObject({ status: 202, body: { run: `${name('storm')}:alert:generic` } });
      const unmatched = await postAlert(`${serve.url}/v1/alerts`, { labels: { alertname: 'Nobody' } }, keys);
      expect(unmatched).toMatchObject({ status: 200, body: { decisions: [{ decision: 'unmatched' }] } });
      expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${serve.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ready: true, runbooks: [`${LONG}-${suffix}`, name('nest'), name('quick'), name('storm'), name('typed')] });
      const metrics = await (await fetch(`${serve.url}/metrics`)).text();
      expect(metrics).toContain(`rebound_alert_decisions_total{runbook="${name('storm')}",decision="started"} 1`);
      expect(metrics).toMatch(/rebound_alerts_received_total\{route="generic"\} 2/);
    },
    SLOW,
  );

  it(
    'SIGHUP reloads: a broken runbook is logged with file:line:col and left out, a new one is served',
    async () => {
      writeFileSync(
        join(dir, 'broken.yaml'),
        `${head('broken')}  triggers:\n    alert: {match: {alertname: "/(unclosed/"}}\n  steps:\n    - {id: a, uses: log, with: {message: x}}\n`,
      );
      writeFileSync(
        join(dir, 'late.yaml'),
        `${head('late')}  triggers:\n    alert: {match: {alertname: LateDown}}\n  steps:\n    - {id: a, uses: log, with: {message: late}}\n`,
      );
      const from = serve.output().length;
      serve.child.kill('SIGHUP');
      await serve.waitFor('"msg":"runbooks loaded"', from);
      expect(serve.output().slice(from)).toMatch(/broken\.yaml:\d+:\d+: triggers\.alert\.match\.alertname: invalid regular expression/);
      const late = await postAlert(`${serve.url}/v1/alerts`, { labels: { alertname: 'LateDown' } }, keys);
      expect(late).toMatchObject({ status: 202, body: { run: `${name('late')}:alert` } });
      const still = await postAlert(alertmanager(serve), storm('orders'), keys);
      expect(still.body).toMatchObject({ deduplicated: true });
    },
    SLOW,
  );

  it(
    'an alert whose key names a child run (`<key>.<step>`) starts its own run instead of attaching to the child',
    async () => {
      const parent = await postAlert(alertmanager(serve), alertmanagerBody([{ labels: { alertname: 'NestDown', service: 'orders' } }]), keys);
      expect(parent.status).toBe(202);
      const childId = `${String(parent.body.run)}.sub`;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const found = await client.workflow
          .getHandle(childId)
          .describe()
          .then(() => true)
          .catch(() => false);
        if (found) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect((await client.workflow.getHandle(childId).describe()).status.name).toBe('RUNNING');
      const crafted = await postAlert(alertmanager(serve), alertmanagerBody([{ labels: { alertname: 'NestDown', service: 'orders.sub' } }]), keys);
      expect(crafted.status).toBe(202);
      expect(crafted.body.run).not.toBe(childId);
      expect((await client.workflow.getHandle(String(crafted.body.run)).describe()).parentExecution).toBeUndefined();
    },
    SLOW,
  );

  it(
    'a batch with an alert that can never start is answered 400 with the reason, beside the run that did start',
    async () => {
      const batch = alertmanagerBody([{ labels: { alertname: 'StormDown', service: 'batch-ok' } }, { labels: { alertname: 'TypedDown', n: 'not-a-number' } }]);
      const answer = await postAlert(alertmanager(serve), batch, keys);
      expect(answer.status).toBe(400);
      const decisions = answer.body.decisions as Array<Record<string, string>>;
      expect(decisions.find((d) => d.runbook === name('storm'))).toMatchObject({ decision: 'started', run: `${name('storm')}:alert:batch-ok` });
      expect(decisions.find((d) => d.runbook === name('typed'))).toMatchObject({ decision: 'invalid', error: expect.stringContaining('"n" must be a number') });
      // Sent again (a sender's retry): the run is attached to, the bad alert still refused.
      const again = await postAlert(alertmanager(serve), batch, keys);
      expect(again.status).toBe(400);
      expect((again.body.decisions as Array<Record<string, string>>).find((d) => d.runbook === name('storm'))).toMatchObject({ decision: 'deduplicated' });
    },
    SLOW,
  );

  it(
    'a start Temporal refuses for good (INVALID_ARGUMENT) is answered 400 with its reason, not 503 for ever',
    async () => {
      const answer = await postAlert(`${serve.url}/v1/alerts`, { labels: { alertname: 'LongDown' } }, keys);
      expect(answer.status).toBe(400);
      expect(answer.body.decisions).toMatchObject([
        { decision: 'invalid', error: expect.stringMatching(/Temporal refused the start: .*INVALID_ARGUMENT: WorkflowId exceeds maximum allowed length/) },
      ]);
    },
    SLOW,
  );

  it(
    'refuses to start with a token or key shorter than 32 bytes',
    async () => {
      const outcome = await startServeProcess({ address: inject('temporalAddress'), site, runbooks: dir, env: { ...env, REBOUND_SERVE_TOKEN: 'x' } }).then(
        async (s) => {
          await s.kill();
          return 'listening';
        },
        (error: Error) => error.message,
      );
      expect(outcome).toMatch(/serve exited with 2/);
      expect(outcome).toMatch(/REBOUND_SERVE_TOKEN is 1 byte long; it must be at least 32/);
    },
    SLOW,
  );

  it(
    'a run an older serve started under the unescaped id (`<runbook>:alert:db1.dc1`) is attached to; a child of that shape is not',
    async () => {
      const plan = loadRunbooks(dir, () => undefined).find((r) => r.plan.name === name('storm'))!.plan;
      const legacy = await startRun(client, plan, { service: 'db1.dc1' }, { taskQueue: `rebound-${site}`, workflowId: `${name('storm')}:alert:db1.dc1` });
      const answer = await postAlert(alertmanager(serve), storm('db1.dc1'), keys);
      expect(answer).toMatchObject({ status: 200, body: { run: legacy.workflowId, deduplicated: true } });

      // `nest:alert:orders.sub` is the running child of `nest:alert:orders` (test above): the key "orders.sub" gets a run of its own.
      const own = await postAlert(alertmanager(serve), alertmanagerBody([{ labels: { alertname: 'NestDown', service: 'orders.sub' } }]), keys);
      expect(own.body.run).toBe(`${name('nest')}:alert:orders%2Esub`);
    },
    SLOW,
  );
});
