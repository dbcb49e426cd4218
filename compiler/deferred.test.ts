// Worker-evaluated expressions (http.check's `expect`): checked against the response's names, located, stored bare, and left alone by the interpreter.
import { describe, expect, it } from 'vitest';
import { renderValue, type ExpressionContext } from '../contract/expression.ts';
import { compile } from './index.ts';

const runbook = (lines: string) => `apiVersion: rebound/v1
kind: Runbook
metadata: {name: t}
spec:
  parameters: {x: {type: string, default: a}}
  steps:
    - id: probe
      uses: http.check
      with:
        url: http://127.0.0.1/
${lines}`;

function compiled(text: string, mode: 'run' | 'drill' = 'run') {
  const result = compile(text, { file: 'rb.yaml', mode });
  return { plan: result.plan, errors: result.errors.map((e) => e.format()) };
}

function withOf(lines: string, mode: 'run' | 'drill' = 'run') {
  const { plan, errors } = compiled(runbook(lines), mode);
  expect(errors).toEqual([]);
  return plan!.steps[0]!.with;
}

const ROOTS = 'expect is evaluated on the worker against the response; it can read body, status, headers, latency_ms, text';

describe('http.check expect: compiled for the worker', () => {
  it('`${{ body.x }}` lands in the plan bare, as the worker evaluates it; bare CEL compiles to the same', () => {
    const wrapped = withOf(`        expect: "\${{ body.model.status == 'loaded' && body.latency_ms < 200 }}"\n`);
    expect(wrapped.expect).toBe("body.model.status == 'loaded' && body.latency_ms < 200");
    const bare = withOf(`        expect: body.model.status == 'loaded' && body.latency_ms < 200\n`);
    expect(bare.expect).toBe(wrapped.expect);
    // Macros bind their own variables; headers, status, latency_ms and text are readable.
    const all = withOf(`        expect: 'body.items.all(i, i.ok) && headers["x-ready"] == "yes" && status == 200 && latency_ms < 5 && text != ""'\n`);
    expect(all.expect).toBe('body.items.all(i, i.ok) && headers["x-ready"] == "yes" && status == 200 && latency_ms < 5 && text != ""');
  });

  it("the interpreter leaves it alone: renderValue over the step's with: returns expect unchanged", () => {
    const planned = withOf(`        headers: {X-Run: "\${{ run.id }}"}\n        expect: "\${{ body.ok && status == 200 }}"\n`);
    const context: ExpressionContext = { params: { x: 'a' }, steps: {}, run: { id: 'run-7', mode: 'run', started_at: '', runbook: 't' } };
    // renderValue is what workflows/phases.ts runs over a step's with: before its activity.
    expect(renderValue(planned, context)).toEqual({ url: 'http://127.0.0.1/', headers: { 'X-Run': 'run-7' }, expect: 'body.ok && status == 200' });
  });

  it('params, secrets or a run name in expect is a located error saying what it can read', () => {
    expect(compiled(runbook(`        expect: "\${{ params.x == 'a' }}"\n`)).errors).toEqual([
      `rb.yaml:11:18: step "probe" with.expect: "params" cannot be read here: ${ROOTS}`,
    ]);
    expect(compiled(runbook(`        expect: body.ok && secrets.t == ''\n`)).errors).toEqual([
      `rb.yaml:11:17: step "probe" with.expect: "secrets" cannot be read here: ${ROOTS}`,
    ]);
  });

  it('an unknown name gets a did-you-mean, located at the expression', () => {
    expect(compiled(runbook(`        expect: "  \${{ bdy.ok }}"\n`)).errors).toEqual([
      `rb.yaml:11:20: step "probe" with.expect: "bdy" cannot be read here: ${ROOTS}; did you mean "body"?`,
    ]);
  });

  it('invalid CEL is a located error, bare or wrapped', () => {
    expect(compiled(runbook(`        expect: body.ok ==\n`)).errors).toEqual([
      'rb.yaml:11:17: step "probe" with.expect: invalid expression: Unexpected token: EOF',
    ]);
    expect(compiled(runbook(`        expect: "\${{ body.ok && }}"\n`)).errors).toEqual([
      'rb.yaml:11:18: step "probe" with.expect: invalid expression: Unexpected token: EOF',
    ]);
  });

  it('text mixed with an expression, or a "${{" inside one, does not compile', () => {
    expect(compiled(runbook(`        expect: "ok \${{ body.ok }}"\n`)).errors).toEqual([
      'rb.yaml:11:18: step "probe" with.expect: one CEL expression, evaluated on the worker: write it bare or as a single "${{ … }}", not mixed with text',
    ]);
    expect(compiled(runbook(`        expect: "\${{ text.contains('\${{') }}"\n`)).errors).toEqual([
      'rb.yaml:11:18: step "probe" with.expect: "${{" cannot appear inside the expression; the interpreter would read it as a template',
    ]);
  });

  it('body is still refused in every other field', () => {
    expect(compiled(runbook(`        headers: {X-A: "\${{ body.x }}"}\n`)).errors).toEqual([
      'rb.yaml:11:25: step "probe" with: unknown name "body"; expressions read params, steps, run, trigger and secrets',
    ]);
    expect(compiled(runbook(`        expect_body: "\${{ status }}"\n`)).errors).toEqual([
      'rb.yaml:11:23: step "probe" with: unknown name "status"; expressions read params, steps, run, trigger and secrets',
    ]);
  });

  it('drill overrides of expect are checked and stored bare too', () => {
    const text = runbook(`        expect: body.ok\n      drill: {with: {expect: "\${{ body.drill }}"}}\n`);
    expect(compiled(text, 'drill').plan!.steps[0]!.with.expect).toBe('body.drill');
    expect(compiled(text.replace('body.drill', 'params.x'), 'drill').errors).toEqual([
      expect.stringMatching(/^rb\.yaml:12:\d+: step "probe" drill\.with\.expect: "params" cannot be read here/),
    ]);
  });
});

describe('http.check expect_json: one assertion or a list', () => {
  it('the single {path, equals} form compiles as before', () => {
    expect(withOf('        expect_json: {path: status, equals: ok}\n').expect_json).toEqual({ path: 'status', equals: 'ok' });
  });

  it('a list with operators compiles; a mistake is named field by field', () => {
    const list = withOf(`        expect_json: [{path: a, equals: 1}, {path: b, op: '<', value: 200}, {path: c, op: '!=', value: down}]\n`);
    expect(list.expect_json).toEqual([
      { path: 'a', equals: 1 },
      { path: 'b', op: '<', value: 200 },
      { path: 'c', op: '!=', value: 'down' },
    ]);
    const errors = (lines: string) => compiled(runbook(lines)).errors;
    expect(errors(`        expect_json: [{path: a, equals: 1}, {path: b, op: '<', value: fast}]\n`)).toEqual([
      'rb.yaml:11:71: step "probe" (http.check) with: expect_json[1].value: op "<" compares numbers; value must be a number',
    ]);
    expect(errors(`        expect_json: {path: a, equal: 1}\n`)).toEqual([
      'rb.yaml:11:32: step "probe" (http.check) with: unknown field "equal"; did you mean "equals"?',
    ]);
    expect(errors(`        expect_json: {path: a, equals: 1, op: '<'}\n`)).toEqual([
      'rb.yaml:11:47: step "probe" (http.check) with: expect_json.op: give either equals, or op and value',
    ]);
    expect(errors(`        expect_json: [{path: a, op: '~', value: 1}]\n`)).toEqual([
      expect.stringMatching(/^rb\.yaml:11:\d+: step "probe" \(http\.check\) with: expect_json\[0\]\.op: Invalid option/),
    ]);
    expect(errors('        expect_json: up\n')).toEqual([
      expect.stringMatching(/^rb\.yaml:11:22: step "probe" \(http\.check\) with: expect_json: one assertion or a non-empty list of them: \{path, equals: v\}/),
    ]);
    expect(errors(`        expect_json: [{path: a}]\n`)).toEqual([
      'rb.yaml:11:23: step "probe" (http.check) with: expect_json[0].equals: give equals, or op and value',
    ]);
    // A templated field is known only at run time (the activity validates it again then): no error for it.
    expect(withOf(`        expect_json: [{path: a, equals: "\${{ params.x }}"}]\n`).expect_json).toEqual([{ path: 'a', equals: '${{ params.x }}' }]);
    expect(withOf(`        expect_json: {path: a, op: '<', value: "\${{ params.x }}"}\n`).expect_json).toEqual({
      path: 'a',
      op: '<',
      value: '${{ params.x }}',
    });
  });
});
