// End-to-end test of approvals with authority on a real Temporal server, a worker process and serve's approval API: forged, unknown, duplicate and self votes refused and shown; N-of-M by distinct people; mTLS; auto-approvals called out.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { approvalKey, signVote } from '../../client/approvals.ts';
import { buildReport } from '../../client/report/build.ts';
import { renderMarkdown } from '../../client/report/render.ts';
import { finalStatus, startRun } from '../../client/runs.ts';
import { renderPlan, renderStatus } from '../../cli/render.ts';
import { approveSignal, type RunStatus } from '../../contract/run.ts';
import { startApprovalService, type ApprovalService } from '../helpers/approvals.ts';
import { rebound } from '../helpers/cli.ts';
import { connect, planOf, stepOf, uniqueSite, waitFor } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const site = uniqueSite('approvals');
let worker: WorkerProcess;
let client: Client;
let approvals: ApprovalService;

beforeAll(async () => {
  worker = await startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), startTimeoutMs: 120_000 });
  client = await connect(inject('temporalAddress'));
  approvals = await startApprovalService(client);
}, 180_000);
afterAll(async () => {
  await approvals?.close();
  await worker?.kill();
  await client?.connection.close();
});

const gate = (policy: string, onTimeout = 'reject', timeout = '5m') =>
  planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: gated}\nspec:
  steps:
    - {id: gate, uses: approval, with: {message: "fail over?", timeout: ${timeout}, on_timeout: ${onTimeout}, ${policy}}}
    - {id: after, uses: log, needs: [gate], with: {message: "approved by \${{ steps.gate.outputs.by }}"}}
`);

async function started(policy: string, startedBy = 'operator'): Promise<WorkflowHandle> {
  const handle = await startRun(client, gate(policy), {}, { taskQueue: `rebound-${site}`, startedBy });
  await waitFor(handle, (s) => stepOf(s, 'gate').status === 'running', 60_000);
  return handle;
}

/** Waits until the run has recorded `n` ballots for the gate (so the next one's place is known). */
const ballots = (handle: WorkflowHandle, n: number): Promise<RunStatus> => waitFor(handle, (s) => (stepOf(s, 'gate').votes?.length ?? 0) >= n, 60_000);

describe('approvals with authority', () => {
  it('a forged signal, a person who is no approver and a second vote are refused and shown; two distinct SREs reach 2-of-3', async () => {
    const handle = await started('approvers: ["group:sre"], min_approvals: 2');
    const run = handle.workflowId;
    await handle.signal(approveSignal, { step: 'gate', by: 'security-officer@corp', reason: 'trust me' });
    await ballots(handle, 1);
    expect((await approvals.vote(run, 'gate', 'approve', 'nobody-has-this-token')).status).toBe(401);
    expect((await approvals.vote(run, 'gate', 'approve', 'dave')).body.recorded).toMatchObject({ by: 'dave', counted: false });
    expect((await approvals.vote(run, 'gate', 'approve', 'alice', 'primary is gone')).body.recorded).toMatchObject({ by: 'alice', counted: true });
    expect(stepOf(await handle.query('status'), 'gate').status).toBe('running');
    expect((await approvals.vote(run, 'gate', 'approve', 'alice')).body.recorded).toMatchObject({
      counted: false,
      refused: 'alice has already voted on this step',
    });
    expect((await approvals.vote(run, 'gate', 'approve', 'bob')).body.recorded).toMatchObject({ by: 'bob', counted: true });

    const status = await finalStatus(handle);
    expect(status.state).toBe('succeeded');
    const step = stepOf(status, 'gate');
    expect(step.outputs).toMatchObject({ decision: 'approved', approved_by: ['alice', 'bob'], by: 'alice, bob' });
    expect(step.votes!.map((v) => [v.by, v.channel, v.counted])).toEqual([
      ['claimed "security-officer@corp"', 'signal', false],
      ['dave', 'token', false],
      ['alice', 'token', true],
      ['alice', 'token', false],
      ['bob', 'token', true],
    ]);
    expect(step.votes![0]!.refused).toContain('not a vote signed by the approval service');
    expect(step.votes![1]!.refused).toBe("dave is not among this step's approvers (group:sre)");
    // status and report show every ballot, and the forged one names nobody.
    expect(renderStatus(status, Date.now(), 400)).toMatch(/↳ claimed "security-officer@corp"\s+approve\s+signal\s+REFUSED/);
    const report = renderMarkdown(buildReport({ workflowId: run, plan: gate('approvers: ["group:sre"], min_approvals: 2'), status }));
    expect(report).toContain('| gate | bob | approve | token |');
    expect(report).toMatch(/\| gate \| claimed "security-officer@corp" \| approve \| signal \| .* \| REFUSED: not a vote signed/);
    expect(report).not.toMatch(/\| gate \| approved \| security-officer/);
  });

  it('refuses the person who started the run unless the step allows self-approval', async () => {
    const handle = await started('approvers: [alice, bob]', 'alice');
    expect((await approvals.vote(handle.workflowId, 'gate', 'approve', 'alice')).body.recorded).toMatchObject({
      counted: false,
      refused: 'alice started this run; self-approval is off for this step',
    });
    expect((await approvals.vote(handle.workflowId, 'gate', 'approve', 'bob')).body.recorded).toMatchObject({ counted: true });
    expect(stepOf(await finalStatus(handle), 'gate').outputs).toMatchObject({ approved_by: ['bob'] });

    const allowed = await started('approvers: [alice, bob], allow_self_approval: true', 'alice');
    expect((await approvals.vote(allowed.workflowId, 'gate', 'approve', 'alice')).body.recorded).toMatchObject({ counted: true });
    expect(stepOf(await finalStatus(allowed), 'gate').outputs).toMatchObject({ approved_by: ['alice'] });
  });

  it('a signed vote moved to another run, or altered, never counts', async () => {
    const first = await started('approvers: [alice]');
    const second = await started('approvers: [alice]');
    const execution = (await first.describe()).runId;
    const vote = {
      workflow_id: first.workflowId,
      execution,
      step: 'gate',
      decision: 'approve' as const,
      voter: 'alice',
      groups: [],
      channel: 'token' as const,
      at: new Date().toISOString(),
      reason: '',
    };
    const signed = signVote(vote, approvalKey());
    await second.signal(approveSignal, { step: 'gate', by: 'alice', signed });
    await first.signal(approveSignal, { step: 'gate', by: 'alice', signed: { ...signed, vote: { ...vote, voter: 'mallory' } } });
    const [moved, altered] = [(await ballots(second, 1)).steps[0]!.votes![0]!, (await ballots(first, 1)).steps[0]!.votes![0]!];
    expect(moved).toMatchObject({ counted: false, refused: expect.stringContaining(`the vote is for ${first.workflowId} step gate`) });
    expect(altered).toMatchObject({ counted: false, refused: 'the signature does not match the vote (altered after signing?)' });
    for (const h of [first, second]) await h.cancel();
  });

  it('on_timeout: approve is an auto-approval: plan calls it out before production, the report marks it', async () => {
    const plan = planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: auto}\nspec:
  secrets: {k: {env: K}}
  steps:
    - {id: gate, uses: approval, with: {timeout: 1s, on_timeout: approve}}
    - {id: switch, uses: dns.switch, needs: [gate], with: {provider: powerdns, zone: example.org., name: db.example.org., type: A, values: [10.0.0.1], powerdns: {api_url: "http://127.0.0.1:1", server_id: localhost, api_key: "\${{ secrets.k }}"}}}
`);
    expect(renderPlan(plan)).toContain('AUTO-APPROVAL: if nobody decides in time, switch run without anyone approving');
    const status = await finalStatus(await startRun(client, gate('approvers: [alice]', 'approve', '1s'), {}, { taskQueue: `rebound-${site}` }));
    expect(stepOf(status, 'gate').outputs).toMatchObject({ decision: 'approved', by: 'timeout', timed_out: true });
    const report = buildReport({ workflowId: 'x', plan: gate('approvers: [alice]', 'approve', '1s'), status });
    expect(report.approvals[0]).toMatchObject({ auto_approved: true });
    expect(renderMarkdown(report)).toContain('approved (AUTO-APPROVED: nobody decided in time)');
  });
});

/** A CA, serve's certificate for 127.0.0.1, carol's client certificate, and one for "carol" from a CA serve does not know. */
function certificates(): Record<'ca' | 'serverCert' | 'serverKey' | 'carolCert' | 'carolKey' | 'rogueCert' | 'rogueKey', string> {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-mtls-'));
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ca = (name: string) =>
    ssl('req', '-x509', '-newkey', 'ed25519', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.pem`), '-days', '2', '-subj', `/CN=${name}`);
  const issue = (name: string, by: string, extra: string[] = []) => {
    ssl('req', '-newkey', 'ed25519', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name.replace(/-.*/, '')}`);
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f(`${by}.pem`),
      '-CAkey',
      f(`${by}.key`),
      '-CAcreateserial',
      '-out',
      f(`${name}.pem`),
      '-days',
      '2',
      ...extra,
    );
  };
  ca('ca');
  ca('rogue-ca');
  const san = f('san.ext');
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > '${san}'`]);
  issue('server', 'ca', ['-extfile', san]);
  issue('carol', 'ca');
  issue('carol-rogue', 'rogue-ca');
  return {
    ca: f('ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    carolCert: f('carol.pem'),
    carolKey: f('carol.key'),
    rogueCert: f('carol-rogue.pem'),
    rogueKey: f('carol-rogue.key'),
  };
}

describe('approvals over mTLS', () => {
  it("carol's client certificate names her to `rebound approve`; a certificate from another CA names nobody", { timeout: 120_000 }, async () => {
    const pem = certificates();
    const tls = await startApprovalService(client, { tlsCert: pem.serverCert, tlsKey: pem.serverKey, clientCa: pem.ca });
    try {
      const handle = await started('approvers: ["group:dba"]');
      const env = { TEMPORAL_ADDRESS: inject('temporalAddress') };
      const as = (cert: string, key: string) =>
        rebound(['approve', handle.workflowId, 'gate', '--server', tls.url, '--cert', cert, '--key', key, '--ca', pem.ca, '--reason', 'mtls'], env);
      const rogue = await as(pem.rogueCert, pem.rogueKey);
      expect(rogue.code).toBe(1);
      expect(rogue.stderr).toContain('does not know you');
      const carol = await as(pem.carolCert, pem.carolKey);
      expect(carol.stderr).toBe('');
      expect(carol.stdout).toContain(`approved ${handle.workflowId} gate as carol (mtls; counted)`);
      expect(stepOf(await finalStatus(handle), 'gate').votes).toEqual([expect.objectContaining({ by: 'carol', channel: 'mtls', counted: true })]);
    } finally {
      await tls.close();
    }
  });
});
