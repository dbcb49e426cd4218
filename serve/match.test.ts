// Alert matchers run on RE2: linear time on hostile values, and the compiler refuses syntax RE2 lacks.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/index.ts';
import { compileMatchers, matches } from './match.ts';

describe('alert matchers', () => {
  it('a nested quantifier against a hostile label answers at once (a backtracking engine would not return)', () => {
    // JavaScript's engine takes ~2^40 steps on this value; RE2 takes 41.
    const matchers = compileMatchers({ service: '/(a+)+/' });
    expect(matches(matchers, { labels: { service: `${'a'.repeat(40)}!` }, annotations: {} } as never)).toBe(false);
    expect(matches(matchers, { labels: { service: 'aaaa' }, annotations: {} } as never)).toBe(true);
  });

  it('the compiler refuses lookaround, which RE2 does not have, at its line and column', () => {
    const text = `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: t}\nspec:\n  triggers:\n    alert:\n      match: {alertname: "/(?=Orders).*/"}\n  steps:\n    - {id: a, uses: log, with: {message: hi}}\n`;
    const { errors } = compile(text, { file: 't.yaml' });
    expect(errors.map((e) => e.format()).join('\n')).toMatch(/t\.yaml:7:\d+: triggers\.alert\.match\.alertname: invalid regular expression/);
  });
});
