// Property tests of the compiler: any text, mutated runbook or random structure gives a Plan or located errors.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compile } from './index.ts';

const example = readFileSync(new URL('../runbooks/dr-failover.yaml', import.meta.url), 'utf8');

/**
 * Whatever the input, the compiler answers with a plan or located errors — never a throw —
 * and every location lies inside the input: a line it has, a column on that line or just
 * past its end (where a missing value would go). Lines are counted at "\n", as the YAML
 * parser's line counter does, and columns in UTF-16 units, as JavaScript strings are.
 */
function answersCleanly(text: string): void {
  const result = compile(text, { file: 'fuzz.yaml', load: () => undefined });
  if (result.plan) {
    expect(result.errors).toEqual([]);
    return;
  }
  expect(result.errors.length).toBeGreaterThan(0);
  const lines = text.split('\n');
  for (const error of result.errors) {
    const { file, line, col } = error.location;
    const where = `${error.format()} (input has ${lines.length} line(s))`;
    expect(file, where).toBe('fuzz.yaml');
    expect(line, where).toBeGreaterThanOrEqual(1);
    expect(line, where).toBeLessThanOrEqual(lines.length);
    expect(col, where).toBeGreaterThanOrEqual(1);
    expect(col, where).toBeLessThanOrEqual(lines[line - 1]!.length + 1);
    expect(error.message.length).toBeGreaterThan(0);
  }
}

/**
 * The same check as an async property that first yields to the event loop: a long run of
 * synchronous compiles on a loaded machine would otherwise starve the test worker's
 * messages to vitest ("Timeout calling onTaskUpdate").
 */
async function answersCleanlyYielding(text: string): Promise<void> {
  await new Promise((r) => setImmediate(r));
  answersCleanly(text);
}

/** One character of YAML's punctuation, a line break, or any Unicode code point (astral ones too). */
const anyChar = fc.oneof(
  fc.constantFrom('\n', '\r\n', '\t', ' ', ':', '-', '{', '}', '[', ']', '"', "'", '#', '$'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const text = fc.string({ unit: anyChar, maxLength: 300 });
const yamlish = fc.stringMatching(/^[a-z:{}[\]\-, \n"'$.|>&*!#0-9éß漢😀]{0,200}$/u);

// Hundreds of compiles each: minutes when the machine is busy.
describe('compiler: property tests', { timeout: 300_000 }, () => {
  it('random text, Unicode and line breaks included, never throws and is located inside the input', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 300 }), answersCleanlyYielding), { numRuns: 300 });
    await fc.assert(fc.asyncProperty(text, answersCleanlyYielding), { numRuns: 400 });
    await fc.assert(fc.asyncProperty(yamlish, answersCleanlyYielding), { numRuns: 400 });
  });

  it('the example runbook with a span deleted, duplicated or replaced never throws', async () => {
    const mutation = fc.tuple(
      fc.nat(example.length),
      fc.nat(80),
      fc.oneof(
        fc.constant(''),
        yamlish,
        text,
        fc.constantFrom('${{', '}}', 'needs: [x]', '  - id: a\n', 'uses: ', '\t', ': ', 'é', '😀\n', '"\\u00e9 ${{ x }}"'),
      ),
    );
    await fc.assert(
      fc.asyncProperty(mutation, ([at, length, insert]) => answersCleanlyYielding(example.slice(0, at) + insert + example.slice(at + length))),
      // "[" before the first line once put an error at 35:16 of an 11-character line.
      { numRuns: 500, examples: [[[0, 0, '[']]] },
    );
  });

  it('random runbook structures give a plan or located errors, as JSON on one line or as block YAML', async () => {
    const value = fc.oneof(
      fc.string({ unit: anyChar, maxLength: 20 }),
      fc.integer(),
      fc.constant('${{ steps.a.outputs.message }}'),
      fc.constant('é ${{ params.q }} 😀'),
    );
    const step = fc.record({
      id: fc.constantFrom('a', 'b', 'c', 'switch-dns', 'bad id', 'ü'),
      uses: fc.constantFrom('log', 'http.check', 'sleep', 'approval', 'nope'),
      needs: fc.option(fc.array(fc.constantFrom('a', 'b', 'c', 'zz'), { maxLength: 3 }), { nil: undefined }),
      with: fc.option(fc.dictionary(fc.constantFrom('message', 'url', 'duration', 'x'), value), { nil: undefined }),
      if: fc.option(fc.constantFrom("steps.a.outcome == 'failure'", '${{ params.p }}', '1 +', "'é' == 'e'"), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 6 }), fc.boolean(), async (steps, json) => {
        const doc = {
          apiVersion: 'rebound/v1',
          kind: 'Runbook',
          metadata: { name: 'p' },
          spec: { parameters: { p: { type: 'boolean', default: true } }, steps },
        };
        await answersCleanlyYielding(json ? JSON.stringify(doc) : stringify(doc));
      }),
      { numRuns: 400 },
    );
  });
});
