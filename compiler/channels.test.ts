// spec.channels and notify steps at compile time: channels checked where written, credentials only as secrets, names expanded into the plan, no secret in a message.
import { describe, expect, it } from 'vitest';
import { compile } from './index.ts';
import { runbookJsonSchema } from './json-schema.ts';

const runbook = (channels: string, step: string, extra = '') => `apiVersion: rebound/v1
kind: Runbook
metadata: {name: tell}
spec:
  parameters: {pd_url: {type: string, default: "https://pd.example.org/v2/enqueue"}}
  secrets: {hook: {env: HOOK}, pd: {env: PD}, smtp: {env: SMTP}${extra}}
  channels:
${channels}
  steps:
${step}
`;

const CHANNELS = `    oncall: {slack: {url: "\${{ secrets.hook }}"}}
    pager: {pagerduty: {routing_key: "\${{ secrets.pd }}"}}
    dba: {email: {host: smtp.example.org, from: rebound@example.org, to: [dba@example.org], user: rebound, password: "\${{ secrets.smtp }}"}}`;

const NOTIFY = `    - id: tell
      uses: notify
      with: {channels: [oncall, pager, dba], message: "failover of \${{ params.pd_url }} started", severity: critical}`;

describe('spec.channels', () => {
  it('puts each named channel into the step, and marks a drill plan as a drill', () => {
    const run = compile(runbook(CHANNELS, NOTIFY), { file: 'n.yaml' });
    expect(run.errors.map((e) => e.format())).toEqual([]);
    const step = run.plan!.steps[0]!;
    expect(step.with.channels).toEqual([
      { name: 'oncall', slack: { url: '${{ secrets.hook }}' } },
      { name: 'pager', pagerduty: { routing_key: '${{ secrets.pd }}' } },
      {
        name: 'dba',
        email: { host: 'smtp.example.org', from: 'rebound@example.org', to: ['dba@example.org'], user: 'rebound', password: '${{ secrets.smtp }}' },
      },
    ]);
    expect(step.with.drill).toBe(false);
    // The SMTP password may go only to the host the channel names.
    expect(run.plan!.secrets.smtp!.hosts).toEqual(['smtp.example.org']);
    expect(compile(runbook(CHANNELS, NOTIFY), { file: 'n.yaml', mode: 'drill' }).plan!.steps[0]!.with.drill).toBe(true);
  });

  it('refuses an unknown channel with a suggestion, located at the name', () => {
    const { errors } = compile(runbook(CHANNELS, NOTIFY.replace('[oncall, pager', '[oncal, pager')), { file: 'n.yaml' });
    expect(errors.map((e) => e.format())).toEqual([
      expect.stringMatching(/^n\.yaml:14:\d+: step "tell" \(notify\) with\.channels: no channel "oncal" in spec\.channels.*oncall/),
    ]);
  });

  it('refuses a literal credential and a malformed channel where they are written, once', () => {
    const channels = `    oncall: {teams: {url: "\${{ secrets.hook }}", retries: 3}}
    pager: {pagerduty: {routing_key: abc123}}
    dba: {email: {host: smtp.example.org, from: rebound@example.org, to: [dba@example.org], user: rebound, password: "\${{ secrets.smtp }}"}}`;
    const { errors } = compile(runbook(channels, NOTIFY), { file: 'n.yaml' });
    expect(errors.map((e) => e.format())).toEqual([
      expect.stringMatching(/^n\.yaml:8:\d+: channel "oncall".*retries/),
      expect.stringMatching(/^n\.yaml:9:\d+: channel "pager": pagerduty\.routing_key is a credential; give it as "\$\{\{ secrets\.NAME \}\}"/),
    ]);
  });

  it('refuses a secret in the message: it would be sent to people', () => {
    const step = NOTIFY.replace('params.pd_url', 'secrets.pd');
    const { errors } = compile(runbook(CHANNELS, step), { file: 'n.yaml' });
    expect(errors.map((e) => e.format())).toEqual([
      expect.stringMatching(/^n\.yaml:14:\d+: step "tell" \(notify\) with\.message: a secret here would be sent to people/),
    ]);
  });

  it('a channel reads no parameter: where a message goes is fixed in the runbook or a secret, never by an alert', () => {
    const channels = `    pager: {pagerduty: {routing_key: "\${{ secrets.pd }}", endpoint: "\${{ params.pd_url }}"}}`;
    const step = NOTIFY.replace('[oncall, pager, dba]', '[pager]');
    const { errors } = compile(runbook(channels, step), { file: 'n.yaml' });
    expect(errors.map((e) => e.format())).toEqual([expect.stringMatching(/^n\.yaml:8:\d+: channel "pager": "params" cannot be read here; only secrets can/)]);
  });

  it('refuses a webhook URL written out, a credential header written out and a header Rebound sets', () => {
    const channels = `    oncall: {slack: {url: "https://hooks.slack.com/services/T0/B0/XYZ"}}
    hook: {webhook: {url: "https://hooks.example.org/x", headers: {Authorization: "Bearer abc", X-Rebound-Signature: forged, X-Team: sre}}}`;
    const step = NOTIFY.replace('[oncall, pager, dba]', '[oncall, hook]');
    const { errors } = compile(runbook(channels, step), { file: 'n.yaml' });
    expect(errors.map((e) => e.format())).toEqual([
      expect.stringMatching(/^n\.yaml:8:\d+: channel "oncall": slack\.url is a credential; give it as/),
      expect.stringMatching(/^n\.yaml:9:\d+: channel "hook": webhook\.headers\.Authorization is a credential/),
      expect.stringMatching(/^n\.yaml:9:\d+: channel "hook": webhook\.headers\.X-Rebound-Signature is set by Rebound/),
    ]);
  });
});

describe('spec.notify', () => {
  const notified = (notify: string) =>
    runbook(CHANNELS, `    - id: approve\n      uses: approval\n      with: {timeout: 10m}`).replace('  steps:\n', `  notify:\n${notify}\n  steps:\n`);

  it('compiles each event into a notify step with its channels, template and severity', () => {
    const { plan, errors } = compile(
      notified(
        `    failed: {channels: [pager, oncall], severity: critical}\n    approval_waiting: {channels: [oncall], message: "\${{ event.text }} (\${{ event.approve_command }})"}\n    succeeded: [pager]`,
      ),
      { file: 'n.yaml' },
    );
    expect(errors.map((e) => e.format())).toEqual([]);
    expect(Object.keys(plan!.notify!)).toEqual(['failed', 'approval_waiting', 'succeeded']);
    expect(plan!.notify!.failed).toMatchObject({
      id: 'notify.failed',
      uses: 'notify',
      with: { channels: [{ name: 'pager' }, { name: 'oncall' }], severity: 'critical', drill: false },
      retry: { maximum_attempts: 5 },
    });
    expect(plan!.notify!.approval_waiting!.with.message).toBe('${{ event.text }} (${{ event.approve_command }})');
    // A runbook that notifies no one compiles to a plan without `notify`, as before.
    expect(compile(runbook(CHANNELS, NOTIFY), { file: 'n.yaml' }).plan!.notify).toBeUndefined();
  });

  it('refuses an unknown event, an unknown channel, an unknown event field and a secret in a message, located', () => {
    const { errors } = compile(
      notified(
        `    failled: [oncall]\n    failed: [oncal]\n    started: {channels: [oncall], message: "\${{ event.stepp }}"}\n    cancelled: {channels: [oncall], message: "\${{ secrets.pd }}"}`,
      ),
      { file: 'n.yaml' },
    );
    const text = errors.map((e) => e.format());
    expect(text).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^n\.yaml:12:\d+: runbook: unknown field "failled"/),
        expect.stringMatching(/^n\.yaml:13:\d+: spec\.notify\.failed\.channels: no channel "oncal" in spec\.channels; did you mean "oncall"\?/),
        expect.stringMatching(/^n\.yaml:14:\d+: spec\.notify\.started\.message: unknown field event\.stepp; did you mean "step"\?/),
        expect.stringMatching(/^n\.yaml:15:\d+: spec\.notify\.cancelled\.message: "secrets" cannot be read here/),
      ]),
    );
    expect(text).toHaveLength(4);
  });
});

describe('the editor schema', () => {
  it('takes channel names in a notify step and checks spec.channels against the channel schema', () => {
    const schema = runbookJsonSchema() as { properties: { spec: { properties: Record<string, { additionalProperties?: unknown; items?: unknown }> } } };
    const spec = schema.properties.spec.properties;
    const step = spec.steps!.items as {
      allOf: Array<{ if: { properties: { uses: { const: string } } }; then: { properties: { with: { properties: Record<string, unknown> } } } }>;
    };
    const notify = step.allOf.find((rule) => rule.if.properties.uses.const === 'notify')!.then.properties.with.properties;
    expect(notify.channels).toMatchObject({ type: 'array', items: { type: 'string' } });
    expect(notify.drill).toBeUndefined();
    expect(JSON.stringify(spec.channels!.additionalProperties)).toContain('routing_key');
  });
});
