// `rebound notify test` as an operator runs it after setting channels up: every channel reached, or exit 1 naming the one that failed and why, with no secret in the output.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebound } from '../helpers/cli.ts';
import { startReceivers } from '../helpers/notify-receivers.ts';

const SLACK_TOKEN = 'T0CLI-B0CLI-slack-url-secret-9876543210';
const PD_KEY = 'CLIROUTINGKEY0123456789abcdefABC';
let receivers: Awaited<ReturnType<typeof startReceivers>>;
let file: string;

beforeAll(async () => {
  receivers = await startReceivers({
    slackToken: SLACK_TOKEN,
    teamsToken: 'unused',
    pagerDutyKey: PD_KEY,
    webhookKey: 'unused-key-0123456789-0123456789-01234',
  });
  file = join(mkdtempSync(join(tmpdir(), 'notify-cli-')), 'tell.yaml');
  writeFileSync(
    file,
    `apiVersion: rebound/v1
kind: Runbook
metadata: {name: tell}
spec:
  secrets: {slack: {env: CLI_SLACK}, wrong: {env: CLI_SLACK_WRONG}, pd: {env: CLI_PD}}
  channels:
    oncall: {slack: {url: "\${{ secrets.slack }}"}}
    pager: {pagerduty: {routing_key: "\${{ secrets.pd }}", endpoint: "${receivers.url('/pagerduty/v2/enqueue')}"}}
    stale: {slack: {url: "\${{ secrets.wrong }}"}}
  steps:
    - {id: hello, uses: log, with: {message: hello}}
`,
  );
});
afterAll(() => receivers.close());

const env = () => ({ CLI_SLACK: receivers.url(`/slack/${SLACK_TOKEN}`), CLI_SLACK_WRONG: receivers.url('/slack/T0REVOKED-hook-secret'), CLI_PD: PD_KEY });

describe('rebound notify test', () => {
  it('sends through the named channels and resolves its PagerDuty test incident', async () => {
    const result = await rebound(['notify', 'test', file, 'oncall', 'pager'], env());
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/oncall\s+slack\s+sent/);
    expect(result.stdout).toMatch(/pager\s+pagerduty\s+sent/);
    expect(receivers.incidents.get('rebound:test:tell:pager')).toBe('resolved');
    expect(receivers.received.filter((r) => r.path.startsWith('/slack/') && r.invalid === undefined)).toHaveLength(1);
  });

  it('exits 1 naming the channel that failed and why, without its URL', async () => {
    const result = await rebound(['notify', 'test', file], env());
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/stale\s+slack\s+FAILED: channel "stale" \(slack\) answered 404: no_service/);
    expect(result.stderr).toMatch(/1 channel\(s\) failed: stale: /);
    expect(result.stdout + result.stderr).not.toMatch(/T0REVOKED-hook-secret|slack-url-secret|CLIROUTINGKEY/);
  });

  it('refuses a channel the runbook does not declare', async () => {
    const result = await rebound(['notify', 'test', file, 'pagr'], env());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('has no channel pagr; it has oncall, pager, stale');
  });
});
