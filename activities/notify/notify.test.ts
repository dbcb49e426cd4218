// The notify action against loopback receivers that check Slack's, Teams', PagerDuty's and a signed webhook's published formats: bodies, drill marks, retry verdicts, Retry-After, no resend on retry, no secret in what it reports.
import { createServer, type AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stepRunner } from '../../test/helpers/activity.ts';
import { startReceivers } from '../../test/helpers/notify-receivers.ts';
import { notifyImpl } from './notify.ts';
import { retryAfterMs } from './post.ts';
import { failureOf } from '../../test/helpers/failure.ts';

const SLACK_TOKEN = 'T000-B000-slacksecret0123456789';
const TEAMS_TOKEN = 'teams-sig-secret-abcdef0123456789';
const PD_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const HOOK_KEY = 'hook-key-0123456789-0123456789-0123456789';

let receivers: Awaited<ReturnType<typeof startReceivers>>;
beforeAll(async () => {
  receivers = await startReceivers({ slackToken: SLACK_TOKEN, teamsToken: TEAMS_TOKEN, pagerDutyKey: PD_KEY, webhookKey: HOOK_KEY });
  process.env.TEST_SLACK_HOOK = receivers.url(`/slack/${SLACK_TOKEN}`);
  process.env.TEST_TEAMS_HOOK = receivers.url(`/teams/${TEAMS_TOKEN}`);
  process.env.TEST_PD_KEY = PD_KEY;
  process.env.TEST_HOOK_KEY = HOOK_KEY;
});
afterAll(() => receivers.close());

const secrets = {
  slack: { env: 'TEST_SLACK_HOOK' },
  teams: { env: 'TEST_TEAMS_HOOK' },
  pd: { env: 'TEST_PD_KEY' },
  hook: { env: 'TEST_HOOK_KEY' },
};
const steps = stepRunner({ runbook: 'orders-failover', runId: 'run-42', step: 'tell', secrets });

const slack = { name: 'oncall', slack: { url: { $secret: 'slack' } } };
const teams = { name: 'ops', teams: { url: { $secret: 'teams' } } };
const pager = () => ({ name: 'pager', pagerduty: { routing_key: { $secret: 'pd' }, endpoint: receivers.url('/pagerduty/v2/enqueue') } });
const hook = () => ({ name: 'hook', webhook: { url: receivers.url('/hook'), key: { $secret: 'hook' } } });

const since = () => {
  const start = receivers.received.length;
  return () => receivers.received.slice(start);
};

/** A loopback port nothing listens on: one the kernel just gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('notify', () => {
  it('sends each channel a request in its published format', async () => {
    const got = since();
    const result = await steps.run(notifyImpl, {
      channels: [slack, teams, pager(), hook()],
      title: 'orders failover started',
      message: 'switching orders to dr',
      severity: 'critical',
      link: 'https://rebound.example/runs/run-42',
      fields: { service: 'orders' },
    });
    const requests = got();
    expect(requests.map((r) => [r.path.split('/')[1], r.invalid])).toEqual([
      ['slack', undefined],
      ['teams', undefined],
      ['pagerduty', undefined],
      ['hook', undefined],
    ]);
    expect(result.outputs).toMatchObject({ dedup_key: 'run-42', sent: [{ channel: 'oncall' }, { channel: 'ops' }, { channel: 'pager' }, { channel: 'hook' }] });
    const event = requests[2]!.json as { payload: { severity: string; source: string; custom_details: Record<string, string> }; dedup_key: string };
    expect(event).toMatchObject({
      dedup_key: 'run-42',
      payload: { severity: 'critical', source: 'orders-failover', custom_details: { service: 'orders', run: 'run-42' } },
    });
    expect(receivers.incidents.get('run-42')).toBe('triggered');
    expect(JSON.parse(requests[3]!.body)).toMatchObject({ title: 'orders failover started', run_id: 'run-42', drill: false });
    // Nothing it reports holds a credential.
    expect(JSON.stringify(result)).not.toMatch(new RegExp(`${SLACK_TOKEN}|${TEAMS_TOKEN}|${PD_KEY}|${HOOK_KEY}`));
  });

  it('marks a drill in every channel', async () => {
    const got = since();
    await steps.run(notifyImpl, { channels: [slack, teams, pager(), hook()], message: 'drill of orders', drill: true, dedup_key: 'drill-1' });
    const bodies = got().map((r) => r.body);
    expect(bodies).toHaveLength(4);
    for (const body of bodies) expect(body).toContain('[DRILL]');
    expect(JSON.parse(bodies[2]!)).toMatchObject({ payload: { class: 'rebound drill' } });
  });

  it('resolves the incident its dedup_key names', async () => {
    await steps.run(notifyImpl, { channels: [pager()], message: 'orders down', dedup_key: 'svc-orders' });
    expect(receivers.incidents.get('svc-orders')).toBe('triggered');
    await steps.run(notifyImpl, { channels: [pager()], message: 'orders back', event: 'resolve', dedup_key: 'svc-orders' });
    expect(receivers.incidents.get('svc-orders')).toBe('resolved');
  });

  it('a 400 is final and says what the service answered; a 5xx and a refused connection are retried', async () => {
    receivers.force(`/slack/${SLACK_TOKEN}`, { status: 400, body: 'invalid_blocks' });
    const bad = await failureOf(steps.run(notifyImpl, { channels: [slack], message: 'x' }));
    expect(bad.nonRetryable).toBe(true);
    expect(bad.type).toBe('rejected');
    expect(bad.message).toMatch(/^notify: step "tell": channel "oncall" \(slack\) answered 400: invalid_blocks — not retryable/);

    receivers.force('/teams/' + TEAMS_TOKEN, { status: 503, body: 'busy' });
    const busy = await failureOf(steps.run(notifyImpl, { channels: [teams], message: 'x' }));
    expect([busy.type, busy.nonRetryable]).toEqual(['unreachable', false]);

    const closed = await closedPort();
    const down = await failureOf(steps.run(notifyImpl, { channels: [{ name: 'gone', webhook: { url: `http://127.0.0.1:${closed}/hook` } }], message: 'x' }));
    expect([down.type, down.nonRetryable]).toEqual(['unreachable', false]);
    expect(down.message).toMatch(/channel "gone" \(webhook\): ECONNREFUSED/);
  });

  it('a 429 is retried after its Retry-After', async () => {
    receivers.force('/pagerduty/v2/enqueue', { status: 429, headers: { 'retry-after': '7' }, body: '' });
    const limited = await failureOf(steps.run(notifyImpl, { channels: [pager()], message: 'x' }));
    expect([limited.type, limited.nonRetryable]).toEqual(['unreachable', false]);
    expect(limited.nextRetryDelay).toBe(7000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:30 GMT'))).toBe(30_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    // A notification must not hold a run's end: no attempt waits more than a minute.
    expect(retryAfterMs('600')).toBe(60_000);
  });

  it("escapes Slack's mrkdwn in what runs wrote, and keeps the signature Rebound's whatever headers a channel sets", async () => {
    const got = since();
    const forged = {
      name: 'hook',
      webhook: { url: receivers.url('/hook'), key: { $secret: 'hook' }, headers: { 'X-REBOUND-SIGNATURE': 'sha256=forged', 'Content-Type': 'text/plain' } },
    };
    await steps.run(notifyImpl, { channels: [slack, forged], message: 'backend said <!channel> <https://evil.example|Approve> & more' });
    const [toSlack, toHook] = got();
    expect(toSlack!.body).toContain('&lt;!channel&gt; &lt;https://evil.example|Approve&gt; &amp; more');
    expect(toSlack!.body).not.toContain('<!channel>');
    expect([toHook!.invalid, toHook!.headers['content-type']]).toEqual([undefined, 'application/json']);
  });

  it('puts what runs wrote in Teams as plain text runs, never in the Markdown a TextBlock or a Fact renders', async () => {
    const got = since();
    const hostile = 'backend said [Approve the failover](https://evil.example/approve) **now**';
    await steps.run(notifyImpl, {
      channels: [teams],
      title: 'orders [x](https://evil.example/t)',
      message: hostile,
      fields: { alert: '[run](https://evil.example/f)' },
    });
    const [toTeams] = got();
    expect(toTeams!.invalid).toBeUndefined();
    type Element = { type: string; text?: string; facts?: Array<{ title: string; value: string }>; inlines?: Array<string | { text: string }> };
    const body = (toTeams!.json as { attachments: Array<{ content: { body: Element[] } }> }).attachments[0]!.content.body;
    const markdown = body.flatMap((e) => [e.text ?? '', ...(e.facts ?? []).flatMap((f) => [f.title, f.value])]);
    expect(markdown.join(' ')).not.toContain('evil.example');
    const runs = body.flatMap((e) => (e.inlines ?? []).map((r) => (typeof r === 'string' ? r : r.text)));
    expect(runs).toEqual(expect.arrayContaining([hostile, 'orders [x](https://evil.example/t)', '[run](https://evil.example/f)']));
  });

  it('a retry does not resend to the channels an earlier attempt reached', async () => {
    receivers.force('/pagerduty/v2/enqueue', { status: 502 });
    const first = new MockActivityEnvironment({ attempt: 1 });
    let beat: unknown;
    first.on('heartbeat', (details: unknown) => (beat = details ?? beat));
    const got = since();
    await failureOf(steps.run(notifyImpl, { channels: [slack, pager()], message: 'once' }, { env: first }));
    expect(beat).toMatchObject({ sent: [{ channel: 'oncall' }] });
    const second = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: beat });
    const result = await steps.run(notifyImpl, { channels: [slack, pager()], message: 'once' }, { env: second });
    expect(result.outputs.sent).toMatchObject([{ channel: 'oncall' }, { channel: 'pager' }]);
    expect(got().map((r) => r.path.split('/')[1])).toEqual(['slack', 'pagerduty', 'pagerduty']);
  });

  it('a wrong webhook URL fails without the URL (its token) in the message', async () => {
    process.env.TEST_SLACK_WRONG = receivers.url('/slack/T999-wrong-secret-token');
    const run = stepRunner({ runbook: 'rb', step: 'tell', secrets: { wrong: { env: 'TEST_SLACK_WRONG' } } });
    const failure = await failureOf(run.run(notifyImpl, { channels: [{ name: 'oncall', slack: { url: { $secret: 'wrong' } } }], message: 'x' }));
    expect(failure.message).toMatch(/answered 404: no_service/);
    expect(JSON.stringify(failure)).not.toContain('T999-wrong-secret-token');
  });
});
