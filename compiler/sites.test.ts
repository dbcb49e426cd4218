// Unit tests of per-site steps: spec.sites, the spec.site default, step site:, timeouts, located errors.
import { describe, expect, it } from 'vitest';
import { compile } from './index.ts';

const runbook = (spec: string, steps: string) => `apiVersion: rebound/v1
kind: Runbook
metadata: {name: sites}
spec:
${spec}
  steps:
${steps}`;

const compiled = (text: string) => compile(text, { file: 'rb.yaml' });
const formatted = (text: string) => compiled(text).errors.map((e) => `${e.code} ${e.format()}`);

describe('compiler: sites', () => {
  it('routes each activity step to its own site, or the default, with the timeouts given', () => {
    const { plan, errors } = compiled(
      runbook(
        '  sites: [primary, dr]\n  site: primary\n  site_timeout: 20s',
        [
          '    - {id: a, uses: log, with: {message: a}}',
          '    - {id: b, uses: log, site: dr, site_timeout: 3s, with: {message: b}}',
          '    - {id: gate, uses: approval}',
        ].join('\n'),
      ),
    );
    expect(errors).toEqual([]);
    expect(plan!.sites).toEqual(['primary', 'dr']);
    expect(plan!.steps.map((s) => [s.id, s.site, s.site_timeout_ms])).toEqual([
      ['a', 'primary', 20_000],
      ['b', 'dr', 3_000],
      // Built-in actions run inside the workflow: no site to route them to.
      ['gate', undefined, undefined],
    ]);
  });

  it('leaves plans without sites exactly as before (no fields, same shape)', () => {
    const { plan } = compiled(runbook('  objectives: {rto: 1m}', '    - {id: a, uses: log, with: {message: a}}'));
    expect(plan!.sites).toBeUndefined();
    expect('site' in plan!.steps[0]!).toBe(false);
  });

  it('defaults the wait for a worker to 5 minutes', () => {
    const { plan } = compiled(runbook('  sites: [dr]', '    - {id: a, uses: log, site: dr, with: {message: a}}'));
    expect(plan!.steps[0]!.site_timeout_ms).toBe(300_000);
  });

  it('an unknown site is a located error with a suggestion', () => {
    expect(formatted(runbook('  sites: [primary, dr]', '    - {id: a, uses: log, site: drr, with: {message: a}}'))).toEqual([
      'unknown_site rb.yaml:7:32: step "a": unknown site "drr"; spec.sites declares primary, dr; did you mean "dr"?',
    ]);
  });

  it('a site without spec.sites, and an unknown default, are errors too', () => {
    expect(formatted(runbook('  objectives: {rto: 1m}', '    - {id: a, uses: log, site: dr, with: {message: a}}'))).toEqual([
      'unknown_site rb.yaml:7:32: step "a": site "dr" is not declared; list the sites under spec.sites (e.g. sites: [primary, dr])',
    ]);
    expect(formatted(runbook('  sites: [primary]\n  site: dr', '    - {id: a, uses: log, with: {message: a}}'))).toEqual([
      'unknown_site rb.yaml:6:9: spec.site: unknown site "dr"; spec.sites declares primary',
    ]);
  });
});
