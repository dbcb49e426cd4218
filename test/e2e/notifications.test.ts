// spec.notify end to end with the real Temporal server and `rebound worker` processes: approval_waiting sent once across a worker SIGKILL, a failed run's PagerDuty incident resolved by its failback, a dead endpoint that delays no step, no secret URL in history, logs or output.
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { finalStatus } from '../../client/runs.ts';
import { startFailoverSite, type FailoverSite } from '../../stack/failover-site.ts';
import { startSmtp, type SmtpServer } from '../../stack/smtp.ts';
import { rebound } from '../helpers/cli.ts';
import { startReceivers } from '../helpers/notify-receivers.ts';
import { connect, planOf, start, uniqueSite, waitFor } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const address = inject('temporalAddress');
const bundle = inject('workflowBundle');
const queue = uniqueSite('notify');
const SLACK_TOKEN = 'T0E2E-B0E2E-slack-url-secret-0123456789';
const PD_KEY = 'E2EROUTINGKEY0123456789abcdefABC';
const HOOK_KEY = 'e2e-hook-key-0123456789-0123456789-012345';

const workers: WorkerProcess[] = [];
let receivers: Awaited<ReturnType<typeof startReceivers>>;
let site: FailoverSite;
let smtp: SmtpServer;
let client: Client;
/** A loopback port nothing listens on, for a channel that is down. */
let closed: number;

const worker = async () => {
  const started = await startWorkerProcess({
    address,
    site: queue,
    bundle,
    env: {
      PDNS_API_KEY: site.pdns.apiKey,
      E2E_SLACK: receivers.url(`/slack/${SLACK_TOKEN}`),
      E2E_PD: PD_KEY,
      E2E_HOOK_KEY: HOOK_KEY,
      E2E_SMTP: 'e2e-smtp-password',
    },
  });
  workers.push(started);
  return started;
};

beforeAll(async () => {
  smtp = await startSmtp({ tls: 'starttls', auth: { user: 'rebound', password: 'e2e-smtp-password' } });
  receivers = await startReceivers({ slackToken: SLACK_TOKEN, teamsToken: 'unused-teams-token', pagerDutyKey: PD_KEY, webhookKey: HOOK_KEY });
  site = await startFailoverSite({ log: (line) => console.log(`[notify test] ${line}`) });
  client = await connect(address);
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closed = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  await worker();
}, 600_000);

afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await site?.stop();
  await receivers?.close();
  await smtp?.stop();
});

/** A runbook of the orders service whose people are on Slack, PagerDuty and a signed webhook; `notify` and `steps` are the test's. */
const runbook = (name: string, notify: string, steps: string) => `apiVersion: rebound/v1
kind: Runbook
metadata: {name: ${name}, labels: {service: orders-${queue}}}
spec:
  parameters:
    pdns_api_url: {type: string, required: true}
    pdns_resolver: {type: string, required: true}
  secrets:
    pdns_key: {env: PDNS_API_KEY, hosts: [127.0.0.1]}
    slack: {env: E2E_SLACK}
    pd: {env: E2E_PD}
    hook_key: {env: E2E_HOOK_KEY}
    smtp: {env: E2E_SMTP}
  channels:
    oncall: {slack: {url: "\${{ secrets.slack }}"}}
    pager: {pagerduty: {routing_key: "\${{ secrets.pd }}", endpoint: "${receivers.url('/pagerduty/v2/enqueue')}"}}
    hook: {webhook: {url: "${receivers.url('/hook')}", key: "\${{ secrets.hook_key }}"}}
    down: {webhook: {url: "http://127.0.0.1:${closed}/hook"}}
    mail: {email: {host: 127.0.0.1, port: ${smtp.port}, ca_file: "${smtp.caFile}", user: rebound, password: "\${{ secrets.smtp }}", from: rebound@example.org, to: [dba@example.org]}}
  notify:
${notify}
  steps:
${steps}
`;

const params = () => ({ pdns_api_url: site.params.pdns_api_url!, pdns_resolver: site.params.pdns_resolver! });
const hookEvents = (run: string) =>
  receivers.received
    .filter((r) => r.path === '/hook')
    .map((r) => r.json as { run_id: string; fields: { event: string }; text: string })
    .filter((b) => b.run_id === run);

describe('spec.notify with the real Temporal server and worker processes', () => {
  it('approval_waiting is sent once, with the commands, though the worker is SIGKILLed while the approval waits', { timeout: 360_000 }, async () => {
    const plan = planOf(
      runbook(
        'notify-approval',
        '    approval_waiting: [hook, pager]\n    succeeded: [hook]',
        `    - {id: approve, uses: approval, with: {timeout: 20s, on_timeout: approve, approvers: [alice]}}
    - {id: done, uses: log, with: {message: approved}}`,
      ),
    );
    const handle = await start(client, plan, queue, params());
    await waitFor(handle, (s) => s.notifications?.some((n) => n.event === 'approval_waiting' && n.status === 'sent') ?? false, 120_000);
    expect(receivers.received.filter((r) => r.path === '/hook' && r.invalid === undefined).length).toBeGreaterThan(0);

    await workers.at(-1)!.kill('SIGKILL');
    await worker();
    const status = await finalStatus(handle);
    expect(status.state).toBe('succeeded');
    const events = hookEvents(handle.workflowId);
    expect(events.map((e) => e.fields.event)).toEqual(['approval_waiting', 'succeeded']);
    expect(events[0]!.text).toContain(`rebound approve ${handle.workflowId} approve`);
    expect(events[0]!.text).toMatch(/waits for 1 approval from alice until .*; on timeout it is approved automatically/);
    expect(status.notifications!.map((n) => [n.event, n.status])).toEqual([
      ['approval_waiting', 'sent'],
      ['succeeded', 'sent'],
    ]);
    // The approval paged as an incident of its own, resolved once the step was decided.
    expect(receivers.incidents.get(`rebound:orders-${queue}:approval:${handle.workflowId}:approve`)).toBe('resolved');
  });

  it("a failed run opens a PagerDuty incident for its service, and its failback's success resolves it", { timeout: 360_000 }, async () => {
    const before = await site.state();
    const plan = planOf(
      runbook(
        'notify-failover',
        '    failed: [pager, oncall]\n    succeeded: [pager, oncall]',
        `    - id: switch-dns
      uses: dns.switch
      with:
        provider: powerdns
        zone: example.org.
        name: orders.example.org.
        type: A
        values: [127.0.0.2]
        ttl: 60
        verify_timeout: 30s
        powerdns: {api_url: "\${{ params.pdns_api_url }}", api_key: "\${{ secrets.pdns_key }}", resolver: "\${{ params.pdns_resolver }}"}
    - {id: validate, uses: http.check, retry: {max_attempts: 1}, with: {url: "${receivers.url('/orders-is-still-down')}"}}`,
      ),
    );
    const handle = await start(client, plan, queue, params());
    const failed = await finalStatus(handle);
    expect(failed.state).toBe('failed');
    const key = `rebound:orders-${queue}`;
    expect(receivers.incidents.get(key)).toBe('triggered');
    expect(failed.notifications).toMatchObject([{ event: 'failed', status: 'sent', channels: ['pager', 'oncall'] }]);

    const back = await rebound(['failback', handle.workflowId, '--site', queue, '--id', `${handle.workflowId}-back`], { TEMPORAL_ADDRESS: address });
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
    expect(await site.state()).toEqual(before);
    expect(receivers.incidents.get(key)).toBe('resolved');

    // The Slack URL is the credential: not in either run's history, the worker's log or the CLI's output.
    const status = await rebound(['status', handle.workflowId], { TEMPORAL_ADDRESS: address });
    for (const id of [handle.workflowId, `${handle.workflowId}-back`]) {
      const history = JSON.stringify(await client.workflow.getHandle(id).fetchHistory());
      expect(history).not.toContain(SLACK_TOKEN);
      expect(history).not.toContain(PD_KEY);
    }
    for (const text of [status.stdout, status.stderr, back.stdout, ...workers.map((w) => w.output())]) {
      expect(text).not.toContain(SLACK_TOKEN);
      expect(text).not.toContain(PD_KEY);
    }
  });

  it('a notification endpoint that is down delays no step: the run finishes first, and status shows the failure', { timeout: 240_000 }, async () => {
    const plan = planOf(
      runbook(
        'notify-down',
        '    started: [down]',
        `    - {id: one, uses: log, with: {message: one}}
    - {id: two, uses: log, with: {message: two}}`,
      ),
    );
    const handle = await start(client, plan, queue, params());
    const status = await finalStatus(handle);
    expect(status.state).toBe('succeeded');
    const [notification] = status.notifications!;
    expect(notification).toMatchObject({ event: 'started', status: 'failed', reason: expect.stringMatching(/channel "down" \(webhook\)/) });
    // Its five attempts back off for 30 s at least (2+4+8+16 s), started with the run: had any
    // step waited for it, that step would have ended after it gave up.
    const lastStep = Math.max(...status.steps.map((s) => Date.parse(s.ended_at!)));
    expect(lastStep).toBeLessThan(Date.parse(notification!.at));
    const shown = await rebound(['status', handle.workflowId], { TEMPORAL_ADDRESS: address });
    expect(shown.stdout).toMatch(/started\s+failed/);
  });

  it("a notify step's e-mail carries the run's report as it stands, read by the worker from Temporal", { timeout: 240_000 }, async () => {
    const plan = planOf(
      runbook(
        'notify-mail',
        '    cancelled: [down]',
        `    - {id: first, uses: log, with: {message: first}}
    - {id: mail, uses: notify, with: {channels: [mail], title: "report m4", message: "halfway", attach_report: true}}`,
      ),
    );
    const handle = await start(client, plan, queue, params());
    expect((await finalStatus(handle)).state).toBe('succeeded');
    const [mail] = (await smtp.messages()).filter((m) => m.data.includes('report m4'));
    expect(mail).toMatchObject({ tls: true, auth_user: 'rebound' });
    expect(mail!.data).toMatch(new RegExp(`filename=${handle.workflowId}-report\\.md`));
    // The attachment is base64: the report names the run and its first step, which had succeeded.
    const attachment = /filename=[^\r\n]+\r?\n(?:[^\r\n]+\r?\n)*\r?\n([A-Za-z0-9+/=\r\n]+)/.exec(mail!.data.split('Content-Disposition: attachment')[1]!);
    const report = Buffer.from(attachment![1]!.replace(/\s/g, ''), 'base64').toString('utf8');
    expect(report).toContain(handle.workflowId);
    expect(report).toMatch(/\| first \| log \| main \| succeeded/);
  });
});
