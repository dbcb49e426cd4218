// traffic.shift compiled: its analysis checks become read steps in the shift's scope, and every mistake is located.
import { describe, expect, it } from 'vitest';
import { renderPlan } from '../cli/render.ts';
import { ACTIONS } from '../contract/actions/registry.ts';
import { compile } from './index.ts';

const runbook = (shift: string, analysis = '') => `apiVersion: rebound/v1
kind: Runbook
metadata: {name: t}
spec:
  parameters: {url: {type: string, default: "http://127.0.0.1:9/health"}}
  secrets: {key: {env: K, hosts: [elb.internal]}, secret: {env: S, hosts: [elb.internal]}}
  steps:
    - id: probe
      uses: http.check
      with: {url: "http://127.0.0.1:9/"}
    - id: failback
      uses: traffic.shift
      with:
${shift}${analysis}`;

const HAPROXY = `        provider: haproxy
        haproxy: {socket: "tcp://127.0.0.1:9999", backend: web}
        from: standby
        to: primary
        steps: [25, 50, 100]
        pause: 2m
`;
const CHECK = `      analysis:
        - uses: http.check
          with: {url: "\${{ params.url }}"}
`;

function compiled(text: string, mode: 'run' | 'drill' = 'run') {
  const result = compile(text, { file: 'rb.yaml', mode });
  return { plan: result.plan, errors: result.errors.map((e) => e.format()) };
}

describe('traffic.shift compiled', () => {
  it('its analysis checks are read steps of their own, named after the shift, with retries and the templates left for the run', () => {
    const { plan, errors } = compiled(runbook(HAPROXY, CHECK));
    expect(errors).toEqual([]);
    const shift = plan!.steps[1]!;
    expect(shift).toMatchObject({ uses: 'traffic.shift', kind: 'workflow', impact: 'production' });
    expect(shift.analysis).toHaveLength(1);
    expect(shift.analysis![0]).toMatchObject({ id: 'failback.check-1', uses: 'http.check', kind: 'activity', impact: 'read', needs: [], after: [] });
    expect(shift.analysis![0]!.with.url).toBe('${{ params.url }}');
    expect(shift.analysis![0]!.retry.maximum_attempts).toBe(3);
  });

  it('in a drill the shift is simulated and its checks run: they only look', () => {
    const { plan, errors } = compiled(runbook(HAPROXY, CHECK), 'drill');
    expect(errors).toEqual([]);
    expect(plan!.steps[1]!.execution).toBe('simulate');
    expect(plan!.steps[1]!.analysis![0]!.execution).toBe('run');
  });

  it('an analysis check takes drill overrides, so a drill can judge the standby', () => {
    const drilled = CHECK + '          drill: {with: {url: "http://127.0.0.1:9/standby"}}\n';
    expect(compiled(runbook(HAPROXY, drilled), 'drill').plan!.steps[1]!.analysis![0]!.with.url).toBe('http://127.0.0.1:9/standby');
    expect(compiled(runbook(HAPROXY, drilled), 'run').plan!.steps[1]!.analysis![0]!.with.url).toBe('${{ params.url }}');
  });

  it('rebound plan shows each check under its shift, where it acts', () => {
    const text = renderPlan(compiled(runbook(HAPROXY, CHECK), 'drill').plan!);
    expect(text).toMatch(
      /\n  failback +traffic\.shift +production +simulate +after probe *\n    failback\.check-1 +http\.check +read +run +after each step of failback/,
    );
  });

  it('a step that is not a shift cannot have analysis', () => {
    const text = runbook(HAPROXY, CHECK).replace('      with: {url: "http://127.0.0.1:9/"}\n', `      with: {url: "http://127.0.0.1:9/"}\n${CHECK}`);
    expect(compiled(text).errors).toEqual([expect.stringMatching(/^rb\.yaml:12:9: step "probe": analysis: only traffic.shift runs analysis checks/)]);
  });

  it('an analysis that changes things, an unknown action and a duplicate id are located', () => {
    const bad = `      analysis:
        - {id: a, uses: routing.switch, with: {}}
        - {id: a, uses: http.check, with: {url: "http://127.0.0.1:9/"}}
        - {uses: http.chek, with: {}}
`;
    expect(compiled(runbook(HAPROXY, bad)).errors).toEqual([
      expect.stringMatching(/^rb\.yaml:21:25: step "failback" analysis 1: routing.switch is not a read action; an analysis only looks/),
      expect.stringMatching(/^rb\.yaml:22:16: step "failback" analysis 2: duplicate check id "a"/),
      expect.stringMatching(/^rb\.yaml:23:18: step "failback" analysis 3: unknown action "http.chek".*http.check/),
    ]);
  });

  it("an analysis check's own inputs are checked against its action, located", () => {
    const bad = `      analysis:
        - uses: metrics.check
          with: {query: "up"}
`;
    expect(compiled(runbook(HAPROXY, bad)).errors).toEqual([
      'rb.yaml:22:17: step "failback" (metrics.check) with: url: missing required field "url" (expected string)',
      'rb.yaml:22:17: step "failback" (metrics.check) with: expect: missing required field "expect" (expected object)',
    ]);
  });

  it('steps that name the wrong targets, a missing provider block and the same target twice are located', () => {
    const bad = HAPROXY.replace('steps: [25, 50, 100]', 'steps: [25, {standby: 0, other: 100}]').replace('to: primary', 'to: standby');
    const errors = compiled(runbook(bad)).errors.join('\n');
    expect(errors).toMatch(/rb\.yaml:17:13: .*to: from and to name the same target/);
    expect(errors).toMatch(/rb\.yaml:18:21: .*steps\[1\]: give the weights of exactly/);
    const noBlock = HAPROXY.replace('        haproxy: {socket: "tcp://127.0.0.1:9999", backend: web}\n', '');
    expect(compiled(runbook(noBlock)).errors.join('\n')).toMatch(/provider haproxy needs a haproxy block/);
    const percent = HAPROXY.replace('[25, 50, 100]', '[25, 150]');
    expect(compiled(runbook(percent)).errors.join('\n')).toMatch(/rb\.yaml:18:\d+: .*steps\[1\]/);
  });

  it('ELBv2 keys must be secrets, and go only where the secret may go', () => {
    const elb = (key: string) => `        provider: aws-elbv2
        elbv2: {listener_arn: "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/1/2", endpoint: "https://elb.internal", access_key: ${key}, secret_key: "\${{ secrets.secret }}"}
        from: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/a/1"
        to: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/b/2"
        steps: [50, 100]
`;
    expect(compiled(runbook(elb('"${{ secrets.key }}"'))).errors).toEqual([]);
    expect(compiled(runbook(elb('AKIAPLAINTEXT'))).errors.join('\n')).toMatch(/elbv2.access_key carries credentials/);
  });

  it('revert goes back to the starting weights in one step, from the with: of the shift’s last switch', () => {
    const revert = ACTIONS.get('traffic.shift')!.revert!;
    const lastSwitch = { provider: 'haproxy', haproxy: { socket: 'tcp://127.0.0.1:1', backend: 'web', servers: { primary: { weight: 100 } } } };
    const outputs = { from: 'standby', to: 'primary', previous: { standby: 100, primary: 0 }, current: { standby: 0, primary: 100 }, simulated: false };
    expect(revert(lastSwitch, outputs)).toEqual({
      provider: 'haproxy',
      haproxy: { socket: 'tcp://127.0.0.1:1', backend: 'web' },
      from: 'standby',
      to: 'primary',
      steps: [{ standby: 100, primary: 0 }],
      expect_current: { standby: 0, primary: 100 },
    });
    // Rolled back (or never moved): nothing to revert.
    expect(revert(lastSwitch, { ...outputs, current: outputs.previous })).toBeUndefined();
  });
});
