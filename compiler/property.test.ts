import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from './index.ts';

const example = readFileSync(new URL('../runbooks/dr-failover.yaml', import.meta.url), 'utf8');

/** Whatever the input, the compiler answers with a plan or located errors — never a throw. */
function answersCleanly(text: string): void {
  const result = compile(text, { file: 'fuzz.yaml', load: () => undefined });
  if (result.plan) {
    expect(result.errors).toEqual([]);
    return;
  }
  expect(result.errors.length).toBeGreaterThan(0);
  for (const error of result.errors) {
    expect(error.location.line).toBeGreaterThanOrEqual(1);
    expect(error.location.col).toBeGreaterThanOrEqual(1);
    expect(error.message.length).toBeGreaterThan(0);
  }
}

const yamlish = fc.stringMatching(/^[a-z:{}[\]\-, \n"'$.|>&*!#0-9]{0,200}$/);

describe('compiler: property tests', () => {
  it('random text never throws', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), answersCleanly), { numRuns: 400 });
    fc.assert(fc.property(yamlish, answersCleanly), { numRuns: 400 });
  });

  it('the example runbook with a span deleted, duplicated or replaced never throws', () => {
    const mutation = fc.tuple(
      fc.nat(example.length),
      fc.nat(80),
      fc.oneof(fc.constant(''), yamlish, fc.constantFrom('${{', '}}', 'needs: [x]', '  - id: a\n', 'uses: ', '\t', ': ')),
    );
    fc.assert(
      fc.property(mutation, ([at, length, insert]) => answersCleanly(example.slice(0, at) + insert + example.slice(at + length))),
      { numRuns: 500 },
    );
  });

  it('random runbook structures give a plan or located errors', () => {
    const step = fc.record({
      id: fc.constantFrom('a', 'b', 'c', 'switch-dns', 'bad id'),
      uses: fc.constantFrom('log', 'http.check', 'sleep', 'approval', 'nope'),
      needs: fc.option(fc.array(fc.constantFrom('a', 'b', 'c', 'zz'), { maxLength: 3 }), { nil: undefined }),
      with: fc.option(
        fc.dictionary(fc.constantFrom('message', 'url', 'duration', 'x'), fc.oneof(fc.string(), fc.integer(), fc.constant('${{ steps.a.outputs.message }}'))),
        { nil: undefined },
      ),
      if: fc.option(fc.constantFrom("steps.a.outcome == 'failure'", '${{ params.p }}', '1 +'), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 6 }), (steps) => {
        const doc = {
          apiVersion: 'rebound/v1',
          kind: 'Runbook',
          metadata: { name: 'p' },
          spec: { parameters: { p: { type: 'boolean', default: true } }, steps },
        };
        answersCleanly(JSON.stringify(doc));
      }),
      { numRuns: 400 },
    );
  });
});
