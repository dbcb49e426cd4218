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
    expect(() => evaluateExpression('process.exit(1)', context)).toThrow();
    expect(() => evaluateExpression('globalThis', context)).toThrow();
  });
});
