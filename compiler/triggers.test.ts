// Compiler checks of spec.triggers: alert matching, templates reading trigger.*, schedules and their parameters, with locations.
import { describe, expect, it } from 'vitest';
import { compile } from './index.ts';

const head =
  'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: t}\nspec:\n  parameters: {service: {type: string, required: true}, n: {type: number, default: 1}}\n';
const steps = '  steps:\n    - {id: a, uses: log, with: {message: "${{ trigger.kind }}"}}\n';
const errorsOf = (triggers: string, body = steps) =>
  compile(`${head}  triggers:\n${triggers}${body}`, { file: 't.yaml' }).errors.map((e) => ({ text: e.format(), line: e.location.line }));

describe('triggers', () => {
  it('compiles an alert trigger with templates, a cooldown and a mode', () => {
    const { plan, errors } = compile(
      `${head}  triggers:\n    alert:\n      match: {alertname: OrdersDown, severity: "/critical|page/"}\n      params: {service: "\${{ trigger.alert.labels.service }}"}\n      dedup_key: "\${{ trigger.alert.labels.service }}"\n      cooldown: 30m\n${steps}`,
      { file: 't.yaml' },
    );
    expect(errors).toEqual([]);
    expect(plan!.triggers.alert).toEqual({
      match: { alertname: 'OrdersDown', severity: '/critical|page/' },
      params: { service: '${{ trigger.alert.labels.service }}' },
      dedup_key: '${{ trigger.alert.labels.service }}',
      cooldown_ms: 1_800_000,
      mode: 'run',
    });
  });

  it('refuses a bad regex, unknown trigger fields, other roots and undeclared or missing parameters, located', () => {
    const errors = errorsOf(
      `    alert:\n      match: {alertname: "/(x/"}\n      params: {service: "\${{ trigger.alert.lables.s }}", nope: x}\n      dedup_key: "\${{ params.service }}"\n`,
    );
    const texts = errors.map((e) => e.text).join('\n');
    expect(texts).toMatch(/t\.yaml:8:\d+: triggers\.alert\.match\.alertname: invalid regular expression/);
    expect(texts).toMatch(/t\.yaml:9:\d+: triggers\.alert\.params: unknown field trigger\.alert\.lables; did you mean "labels"\?/);
    expect(texts).toMatch(/t\.yaml:9:\d+: triggers\.alert\.params: no parameter "nope"/);
    expect(texts).toMatch(/t\.yaml:10:\d+: triggers\.alert\.dedup_key: "params" cannot be read here; only trigger can/);
    expect(errorsOf('    alert: {match: {alertname: X}}\n').map((e) => e.text)).toEqual([
      expect.stringMatching(/t\.yaml:7:\d+: triggers\.alert: parameter "service" is required; give it under triggers\.alert\.params/),
    ]);
  });

  it('steps may read trigger.*, but only its known fields', () => {
    const body = '  steps:\n    - {id: a, uses: log, with: {message: "${{ trigger.alert.fingerprnt }}"}}\n';
    const [e] = errorsOf('    manual: true\n', body);
    expect(e!.text).toContain('unknown field trigger.alert.fingerprnt; did you mean "fingerprint"?');
  });

  it('compiles a schedule with every, overlap and defaults; refuses cron and every together, bad zones and wrong types', () => {
    const { plan } = compile(`${head}  triggers:\n    schedule: {every: 15m, params: {service: orders}, overlap: buffer_one}\n${steps}`, { file: 't.yaml' });
    expect(plan!.triggers.schedule).toEqual({
      every_ms: 900_000,
      params: { service: 'orders' },
      mode: 'run',
      overlap: 'buffer_one',
      catchup_window_ms: 3_600_000,
      pause_on_failure: false,
    });
    const texts = errorsOf('    schedule: {cron: "0 2 * * *", every: 1h, timezone: Mars/Olympus, params: {service: orders, n: many}}\n').map((e) => e.text);
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.stringContaining('give exactly one of cron'),
        expect.stringContaining('unknown time zone "Mars/Olympus"'),
        expect.stringContaining('parameter "n" must be a number'),
      ]),
    );
    expect(errorsOf('    schedule: {cron: "61 * * * *", params: {service: x}}\n')[0]!.text).toContain('triggers.schedule.cron');
    expect(errorsOf('    schedule: {every: 1h, params: {service: "${{ trigger.kind }}"}}\n')[0]!.text).toContain("a schedule's values are fixed");
  });
});
