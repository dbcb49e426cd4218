// Unit tests of the CEL expression layer: hyphenated names, number types, templates, the sandbox.
import { EvaluationError, ParseError } from '@marcbachmann/cel-js';
import { describe, expect, it } from 'vitest';
import { evaluateExpression, renderValue, rewriteHyphenatedNames } from './expression.ts';

const context = {
  params: { replicas: 3, ratio: 0.5, region: 'eu', ips: ['10.0.0.1'] },
  steps: { 'switch-dns': { outcome: 'success', outputs: { previous: ['10.1.0.1'] } } },
  run: { id: 'r1', mode: 'drill' },
};

describe('expressions (CEL)', () => {
  it('reads hyphenated step ids as written', () => {
    expect(rewriteHyphenatedNames("steps.switch-dns.outputs.previous == 'a-b'")).toBe('steps["switch-dns"].outputs.previous == \'a-b\'');
    expect(evaluateExpression(rewriteHyphenatedNames('steps.switch-dns.outputs.previous'), context)).toEqual(['10.1.0.1']);
  });

  it('treats whole JSON numbers as ints and returns plain numbers', () => {
    expect(evaluateExpression('params.replicas + 1', context)).toBe(4);
    expect(evaluateExpression('params.ratio * 2.0', context)).toBe(1);
  });

  it('renders templates: typed when whole, text when mixed, secrets as references', () => {
    expect(renderValue('${{ params.ips }}', context)).toEqual(['10.0.0.1']);
    expect(renderValue('n=${{ params.replicas }} in ${{ params.region }}', context)).toBe('n=3 in eu');
    expect(renderValue({ h: 'Bearer ${{ secrets.token }}', t: '${{ secrets.token }}' }, context)).toEqual({
      h: { $interpolate: ['Bearer ', { $secret: 'token' }] },
      t: { $secret: 'token' },
    });
  });

  it('cannot reach outside its context', () => {
    // Names that exist in JavaScript's global scope are not variables here.
    const unknown = (source: string, name: string) => {
      expect(() => evaluateExpression(source, context)).toThrow(EvaluationError);
      expect(() => evaluateExpression(source, context)).toThrow(`Unknown variable: ${name}`);
    };
    // A method call is resolved against CEL's functions, before any variable is read.
    expect(() => evaluateExpression('process.exit(1)', context)).toThrow(/no matching overload for 'dyn\.exit\(int\)'/);
    unknown('process.env', 'process');
    unknown('globalThis', 'globalThis');
    unknown('require', 'require');
    unknown('this', 'this');
    // The prototype chain of the context's objects is not reachable, by field or by index.
    const noKey = (source: string, key: string) => {
      expect(() => evaluateExpression(source, context)).toThrow(EvaluationError);
      expect(() => evaluateExpression(source, context)).toThrow(`No such key: ${key}`);
    };
    noKey('params.__proto__', '__proto__');
    noKey('params["__proto__"]', '__proto__');
    noKey('params.constructor', 'constructor');
    noKey("params['constructor']", 'constructor');
    noKey('params.constructor.constructor', 'constructor');
    noKey('params.region.constructor', 'constructor');
    noKey('run.__proto__', '__proto__');
    // A string literal has no fields at all, so no way to its constructor (and Function).
    expect(() => evaluateExpression("''.constructor", context)).toThrow(EvaluationError);
    expect(() => evaluateExpression("''.constructor", context)).toThrow("Cannot index type 'string'");
    // JavaScript methods of the context's objects are not CEL functions.
    expect(() => evaluateExpression('params.toString()', context)).toThrow(/no matching overload for 'dyn\.toString\(\)'/);
    // A call on a call does not even parse, so `constructor('…')()` cannot be written.
    expect(() => evaluateExpression("''.constructor.constructor('return process')()", context)).toThrow(ParseError);
  });
});
