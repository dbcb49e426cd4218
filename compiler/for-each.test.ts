// Compiler tests of for_each: the plan it makes (a step per item, a group, parallel), and every error located at file:line:col.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from './index.ts';

const head = 'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: t}\nspec:\n';

function planOf(text: string, mode: 'run' | 'drill' = 'run') {
  const result = compile(text, { file: 'rb.yaml', mode });
  expect(result.errors.map((e) => e.format())).toEqual([]);
  return result.plan!;
}

/** Each error as `line:col code: message`, the form a person (and an editor) acts on. */
function errorsOf(text: string): string[] {
  const result = compile(text, { file: 'rb.yaml' });
  expect(result.plan).toBeUndefined();
  return result.errors.map((e) => `${e.location.line}:${e.location.col} ${e.code}: ${e.message}`);
}

describe('for_each: plans', () => {
  it('a step over a literal list, in order by default, item and index in with:, if: and name:', () => {
    const plan = planOf(`${head}  steps:
    - id: shift
      name: "shift \${{ item }}"
      for_each: [eu, us]
      if: \${{ index < 5 }}
      uses: log
      with: {message: "\${{ index }}: \${{ item }}"}
    - {id: after, uses: log, with: {message: "\${{ steps.shift[1].outputs.message }} \${{ steps.shift.all(s, s.outcome == 'success') }}"}}
`);
    const [shift, after] = plan.steps;
    expect(shift).toMatchObject({ id: 'shift', uses: 'log', name: 'shift ${{ item }}', if: 'index < 5', for_each: { items: ['eu', 'us'], parallel: 1 } });
    expect(shift!.for_each!.steps).toBeUndefined();
    expect(after!.with.message).toBe("${{ steps.shift[1].outputs.message }} ${{ steps.shift.all(s, s.outcome == 'success') }}");
  });

  it('a group over a parameter split into a list, in parallel, its steps reading each other, item and earlier steps', () => {
    const plan = planOf(`${head}  parameters: {regions: {type: string, default: "eu,us,ap"}}
  steps:
    - {id: discover, uses: log, with: {message: go}}
    - id: per-region
      for_each: \${{ params.regions.split(',') }}
      parallel: 2
      steps:
        - {id: drain, uses: log, with: {message: "drain \${{ item }} after \${{ steps.discover.outputs.message }}"}}
        - {id: check, uses: log, with: {message: "\${{ steps.drain.outputs.message }} #\${{ index }}"}}
    - {id: report, uses: log, with: {message: "\${{ steps.per-region[0].steps.check.outputs.message }}"}}
`);
    const group = plan.steps[1]!;
    expect(group).toMatchObject({ id: 'per-region', uses: 'group', kind: 'workflow', impact: 'read', after: ['discover'] });
    expect(group.for_each).toMatchObject({ items: "${{ params.regions.split(',') }}", parallel: 2 });
    expect(group.for_each!.steps!.map((s) => [s.id, s.after, s.uses])).toEqual([
      ['drain', [], 'log'],
      ['check', ['drain'], 'log'],
    ]);
    expect(plan.steps[2]!.with.message).toBe('${{ steps["per-region"][0].steps.check.outputs.message }}');
  });

  it('a step without for_each keeps the plan it had (no for_each field, so its hash is unchanged)', () => {
    const plan = planOf(`${head}  steps:\n    - {id: a, uses: log, with: {message: x}}\n`);
    expect('for_each' in plan.steps[0]!).toBe(false);
  });

  it('the items may read an earlier step; a group in a drill has each step decided by its own action', () => {
    const plan = planOf(
      `${head}  steps:
    - {id: discover, uses: http.check, with: {url: "http://127.0.0.1:9/x"}}
    - id: each
      for_each: \${{ steps.discover.outputs.body_excerpt.split(",") }}
      steps:
        - {id: look, uses: log, with: {message: "\${{ item }}"}}
        - {id: move, uses: http.request, drill: skip, with: {url: "http://127.0.0.1:9/\${{ item }}", method: PUT}}
`,
      'drill',
    );
    expect(plan.steps[1]!.for_each!.steps!.map((s) => [s.id, s.execution])).toEqual([
      ['look', 'run'],
      ['move', 'skip'],
    ]);
  });
});

describe('for_each: located errors', () => {
  it('item and index outside a for_each', () => {
    expect(
      errorsOf(`${head}  steps:
    - {id: a, uses: log, with: {message: "\${{ item }}"}}
    - {id: b, uses: log, if: "index == 0", with: {message: x}}
`),
    ).toEqual([
      '6:43 expression: step "a" with: "item" can be read only in a for_each step (its with:, if: and name:) or its group\'s steps',
      '7:30 expression: step "b" if: "index" can be read only in a for_each step (its with:, if: and name:) or its group\'s steps',
    ]);
  });

  it('the items expression cannot read item; a list that is not one; an empty list', () => {
    expect(
      errorsOf(`${head}  steps:
    - {id: a, uses: log, for_each: "\${{ item }}", with: {message: x}}
    - {id: b, uses: log, for_each: "eu,us", with: {message: x}}
    - {id: c, uses: log, for_each: [], with: {message: x}}
    - {id: d, uses: log, for_each: 3, with: {message: x}}
`),
    ).toEqual([
      '6:37 expression: step "a" for_each: "item" can be read only in a for_each step (its with:, if: and name:) or its group\'s steps',
      `7:36 schema: step "b" for_each: "eu,us" is not a list; write a list ([a, b]) or one \${{ }} expression that gives one (e.g. \${{ params.regions.split(',') }})`,
      '8:36 schema: step "c" for_each: an empty list runs nothing; give at least one item',
      '9:36 schema: step 4: for_each: for_each takes a list, or one ${{ }} expression that gives a list',
    ]);
  });

  it('parallel below 1, above the limit, or without for_each', () => {
    expect(
      errorsOf(`${head}  steps:
    - {id: a, uses: log, for_each: [x], parallel: 0, with: {message: x}}
    - {id: b, uses: log, for_each: [x], parallel: 50, with: {message: x}}
    - {id: c, uses: log, parallel: 2, with: {message: x}}
`),
    ).toEqual([
      '6:51 schema: step 1: parallel: parallel is how many iterations run at once: 1 or more',
      '7:51 schema: step 2: parallel: parallel runs at most 20 iterations at once',
      '8:26 schema: step "c": parallel: says how many for_each iterations run at once; add for_each: or remove it',
    ]);
  });

  it("references to iterations: the list is indexed, its fields, a group's steps, a step that has no iterations", () => {
    const errors = errorsOf(`${head}  steps:
    - {id: plain, uses: log, with: {message: x}}
    - {id: shift, uses: log, for_each: [a, b], with: {message: x}}
    - id: grp
      for_each: [a]
      steps:
        - {id: set, uses: log, with: {message: x}}
    - id: after
      uses: log
      with:
        message: "\${{ steps.shift.outcome }} \${{ steps.shift[0].outputs.mesage }} \${{ steps.grp[0].steps.sett.outputs }} \${{ steps.plain[0].outputs }} \${{ steps.set.outputs }}"
`);
    expect(errors).toEqual([
      `15:19 expression: step "after" with: steps.shift is the list of its for_each iterations: read steps.shift[i].outputs, or e.g. steps.shift.all(s, s.outcome == 'success')`,
      '15:46 expression: step "after" with: step "shift" has no output "mesage"; did you mean "message"?; it has message',
      '15:83 expression: step "after" with: group "grp" has no step "sett"; did you mean "set"?; it has set',
      '15:122 expression: step "after" with: step "plain" has no iterations (it has no for_each); read steps.plain.outputs or steps.plain.outcome',
      '15:152 expression: step "after" with: step "set" runs in for_each group "grp", once per item; read steps.grp[i].steps.set',
    ]);
  });

  it('a loop cannot read its own iterations, which may still be running', () => {
    expect(errorsOf(`${head}  steps:\n    - {id: s, uses: log, for_each: [a, b], with: {message: "\${{ steps.s[0].outputs }}"}}\n`)).toEqual([
      '6:61 expression: step "s" with: step "s" is not certain to have finished here; add it to this step\'s needs',
    ]);
  });

  it('groups: duplicate ids, unknown actions and needs, steps without for_each, uses and steps together, fields for the steps', () => {
    expect(
      errorsOf(`${head}  steps:
    - {id: a, uses: log, with: {message: x}}
    - id: g
      for_each: [x]
      steps:
        - {id: a, uses: log, with: {message: x}}
        - {id: b, uses: lgo, with: {message: x}}
        - {id: c, uses: log, needs: [nope], with: {message: x}}
    - id: h
      steps:
        - {id: d, uses: log, with: {message: x}}
    - {id: i, uses: log, for_each: [x], steps: [{id: e, uses: log, with: {message: x}}]}
    - {id: j, for_each: [x], timeout: 1m, steps: [{id: f, uses: log, with: {message: x}}]}
`),
    ).toEqual([
      '10:16 duplicate_step: duplicate step id "a"; step ids must be unique in a runbook, group steps too',
      '11:25 unknown_action: step "g" group step "b": unknown action "lgo"; did you mean "log"?',
      '12:38 unknown_need: step "c" needs unknown step "nope"',
      '15:9 schema: step "h": steps: is a group that runs once per item of for_each:; add for_each:, or list these steps in the phase itself',
      '16:21 schema: step "i": give uses: (an action) or steps: (a for_each group), not both',
      '17:39 schema: step "j": a for_each group takes no timeout:; set it on its steps',
    ]);
  });

  it('approvals and child runbooks do not run once per item', () => {
    expect(
      errorsOf(`${head}  steps:
    - {id: gate, uses: approval, for_each: [a, b], with: {timeout: 5m}}
    - id: g
      for_each: [a]
      steps:
        - {id: sub, uses: runbook, with: {path: child.yaml}}
`),
    ).toEqual([
      '6:44 schema: step "gate": approval cannot run once per item: put one approval before the for_each: it covers every item',
      '10:27 schema: step "g" group step "sub": runbook cannot run once per item: a child runbook runs once per step; give the child runbook the list as a parameter and loop inside it',
    ]);
  });
});

describe('for_each: the documentation', () => {
  it("docs/runbooks.md's for_each example compiles as written", () => {
    const page = readFileSync(new URL('../docs/runbooks.md', import.meta.url), 'utf8');
    const section = page.slice(page.indexOf('## Loops: for_each'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const plan = planOf(`${head}${example}`);
    expect(plan.steps.map((s) => [s.id, s.uses, s.for_each?.parallel])).toEqual([
      ['discover', 'log', undefined],
      ['drain', 'http.request', 2],
      ['shift', 'group', 1],
      ['summary', 'log', undefined],
    ]);
  });
});
