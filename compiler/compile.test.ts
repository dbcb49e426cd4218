// Unit tests of the compiler: the design sketch, one located error per class, plans, drill and retry rules.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile, resolveParams, ParameterError } from './index.ts';

const head = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: t}
`;

function errorsOf(text: string, options: { mode?: 'run' | 'drill'; files?: Record<string, string> } = {}) {
  const result = compile(text, {
    file: 'rb.yaml',
    mode: options.mode,
    load: (p) => (options.files?.[p] ? { file: p, text: options.files[p]! } : undefined),
  });
  expect(result.plan).toBeUndefined();
  return result.errors.map((e) => ({ code: e.code, line: e.location.line, col: e.location.col, text: e.format() }));
}

function planOf(text: string, mode: 'run' | 'drill' = 'run') {
  const result = compile(text, { file: 'rb.yaml', mode });
  expect(result.errors.map((e) => e.format())).toEqual([]);
  return result.plan!;
}

describe('compiler: the design sketch', () => {
  it("accepts DESIGN.md's runbook as written, but for dns.switch's `to:`, which the action names `values:`", () => {
    const sketch = readFileSync(new URL('../test/fixtures/design-sketch.yaml', import.meta.url), 'utf8');
    expect(errorsOf(sketch).map((e) => `${e.code} ${e.text}`)).toEqual([
      'action_input rb.yaml:32:9: step "switch-dns" (dns.switch) with: values: missing required field "values" (expected array)',
      expect.stringMatching(/^action_input rb.yaml:36:9: step "switch-dns" \(dns.switch\) with: unknown field "to"/),
      'action_input rb.yaml:46:9: step "rollback-dns" (dns.switch) with: values: missing required field "values" (expected array)',
    ]);
    const renamed = sketch
      .replace('to: ["${{ params.standby_ip }}"]', 'values: ["${{ params.standby_ip }}"]')
      .replace('to: ${{ steps.switch-dns.outputs.previous }}', 'values: ${{ steps.switch-dns.outputs.previous.values }}');
    expect(planOf(renamed).steps.find((s) => s.id === 'switch-dns')!.uses).toBe('dns.switch');
  });

  it('compiles the sketch with dns.switch swapped for a built-in action', () => {
    const sketch = readFileSync(new URL('../test/fixtures/design-sketch.yaml', import.meta.url), 'utf8')
      .replaceAll('uses: dns.switch', 'uses: log')
      .replace(
        /      with:\n        provider: powerdns\n(        [^\n]*\n)+?        to: \["\$\{\{ params.standby_ip \}\}"\]\n/,
        '      with: {message: "${{ params.standby_ip }}"}\n',
      )
      .replace(
        /      with:\n        provider: powerdns\n(        [^\n]*\n)+?        to: \$\{\{ steps.switch-dns.outputs.previous \}\}\n/,
        '      with: {message: "${{ steps.switch-dns.outputs.message }}"}\n',
      );
    const plan = planOf(sketch);
    expect(plan.steps.map((s) => [s.id, s.needs, s.after])).toEqual([
      ['detect', [], []],
      ['approve', [], ['detect']],
      ['restore-db', ['approve'], []],
      ['switch-dns', ['approve'], []],
      ['validate', ['restore-db', 'switch-dns'], []],
    ]);
    expect(plan.on_failure[0]!.with.message).toBe('${{ steps["switch-dns"].outputs.message }}');
    expect(plan.secrets).toEqual({ standby_pg: { env: 'ORDERS_STANDBY_PG_URL' } });
    expect(plan.steps[2]).toMatchObject({
      uses: 'postgres.restore',
      with: { restore_point: { service: 'orders-pg', latest: 'verified' }, target: '${{ secrets.standby_pg }}' },
    });
    expect(plan.hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('compiler: one located error per class', () => {
  it('YAML syntax', () => {
    const [e] = errorsOf(`${head}spec:\n  steps: [\n`);
    expect(e!.code).toBe('yaml_syntax');
    expect(e!.text).toMatch(/^rb\.yaml:\d+:\d+: YAML: /);
  });

  it('schema: unknown field with a suggestion, at the key', () => {
    const [e] = errorsOf(`${head}spec:\n  stepz: []\n  steps: [{id: a, uses: log, with: {message: hi}}]\n`);
    expect(e).toMatchObject({ code: 'schema', line: 5, col: 3 });
    expect(e!.text).toContain('unknown field "stepz"; did you mean "steps"?');
  });

  it('schema: a step field misspelt', () => {
    const [e] = errorsOf(`${head}spec:\n  steps:\n    - id: a\n      uses: log\n      width: {message: hi}\n`);
    expect(e).toMatchObject({ code: 'schema', line: 8, col: 7 });
    expect(e!.text).toContain('did you mean "with"?');
  });

  it('unknown action, with did-you-mean', () => {
    const [e] = errorsOf(`${head}spec:\n  steps:\n    - id: a\n      uses: http.chek\n`);
    expect(e).toMatchObject({ code: 'unknown_action', line: 7, col: 13 });
    expect(e!.text).toContain('unknown action "http.chek"; did you mean "http.check"?');
  });

  it('with: not matching the action schema (typo and wrong type)', () => {
    const errors = errorsOf(
      `${head}spec:\n  steps:\n    - id: a\n      uses: http.check\n      with:\n        url: http://127.0.0.1/\n        expect_stauts: 200\n        timeout: 5\n`,
    );
    expect(errors.map((e) => e.code)).toEqual(['action_input', 'action_input']);
    expect(errors[0]).toMatchObject({ line: 10, col: 9 });
    expect(errors[0]!.text).toContain('unknown field "expect_stauts"; did you mean "expect_status"?');
    expect(errors[1]).toMatchObject({ line: 11, col: 18 });
    expect(errors[1]!.text).toContain('timeout');
  });

  it('a missing required with: field', () => {
    const [e] = errorsOf(`${head}spec:\n  steps:\n    - id: a\n      uses: http.check\n      with: {timeout: 5s}\n`);
    expect(e!.code).toBe('action_input');
    expect(e!.text).toContain('missing required field "url"');
  });

  it('duplicate step ids', () => {
    const [e] = errorsOf(`${head}spec:\n  steps:\n    - {id: a, uses: log, with: {message: x}}\n    - {id: a, uses: log, with: {message: y}}\n`);
    expect(e).toMatchObject({ code: 'duplicate_step', line: 7 });
  });

  it('unknown needs', () => {
    const [e] = errorsOf(
      `${head}spec:\n  steps:\n    - {id: fetch, uses: log, with: {message: x}}\n    - {id: b, uses: log, needs: [fetc], with: {message: y}}\n`,
    );
    expect(e).toMatchObject({ code: 'unknown_need', line: 7 });
    expect(e!.text).toContain('did you mean "fetch"?');
  });

  it('cycles, naming the steps', () => {
    const errors = errorsOf(
      `${head}spec:\n  steps:\n    - {id: a, uses: log, needs: [c], with: {message: x}}\n    - {id: b, uses: log, needs: [a], with: {message: y}}\n    - {id: c, uses: log, needs: [b], with: {message: z}}\n`,
    );
    // One error, at the need that closes the cycle: the "c" in a's `needs: [c]`.
    expect(errors).toEqual([{ code: 'cycle', line: 6, col: 33, text: 'rb.yaml:6:33: steps form a cycle: a → c → b → a; remove one of these needs' }]);
  });

  it('expressions: unknown parameter, step, output, secret, and bad syntax', () => {
    const text = `${head}spec:
  parameters: {region: {type: string, default: eu}}
  secrets: {token: {env: TOKEN}}
  steps:
    - id: probe
      uses: http.check
      with: {url: "http://127.0.0.1/\${{ params.regoin }}"}
    - id: b
      uses: log
      with: {message: "\${{ steps.prob.outcome }} \${{ steps.probe.outputs.statuz }} \${{ secrets.tokn }}"}
    - id: c
      uses: log
      if: \${{ steps.probe.outcome == }}
      with: {message: x}
`;
    const errors = errorsOf(text);
    expect(errors.every((e) => e.code === 'expression')).toBe(true);
    const texts = errors.map((e) => e.text).join('\n');
    expect(texts).toContain('unknown parameter "regoin"; did you mean "region"?');
    expect(texts).toContain('unknown step "prob"; did you mean "probe"?');
    expect(texts).toContain('step "probe" has no output "statuz"; did you mean "status"?');
    expect(texts).toContain('unknown secret "tokn"');
    expect(texts).toContain('invalid expression');
    // The column points into the string at the expression, not at the start of the value.
    expect(errors[0]).toMatchObject({ line: 10, col: 37 }); // the "$" of "${{"
  });

  it('expressions: a step that may still be running is not readable', () => {
    const [e] = errorsOf(
      `${head}spec:\n  steps:\n    - {id: a, uses: log, needs: [], with: {message: x}}\n    - {id: b, uses: log, needs: [], with: {message: "\${{ steps.a.outputs.message }}"}}\n`,
    );
    expect(e!.text).toContain('step "a" is not certain to have finished here; add it to this step\'s needs');
  });

  it('expressions: secrets only as a whole value in with:', () => {
    const errors = errorsOf(
      `${head}spec:\n  secrets: {t: {env: T}}\n  steps:\n    - id: a\n      uses: log\n      if: secrets.t == 'x'\n      with: {message: "\${{ secrets.t + 'x' }}"}\n`,
    );
    expect(errors).toHaveLength(2);
    for (const e of errors) expect(e.text).toContain('secrets can only be used as a whole');
  });

  it('parameter defaults of the wrong type', () => {
    const [e] = errorsOf(`${head}spec:\n  parameters: {replicas: {type: number, default: three}}\n  steps: [{id: a, uses: log, with: {message: x}}]\n`);
    expect(e).toMatchObject({ code: 'parameter', line: 5 });
    expect(e!.text).toContain('default "three" is not a number');
  });

  it('run-time --param values: undeclared or of the wrong type', () => {
    const plan = planOf(
      `${head}spec:\n  parameters: {replicas: {type: number, default: 1}, wait: {type: duration, required: true}}\n  steps: [{id: a, uses: log, with: {message: x}}]\n`,
    );
    expect(resolveParams(plan, { replicas: '3', wait: '5m' })).toEqual({ replicas: 3, wait: '5m' });
    expect(() => resolveParams(plan, { replica: '3', wait: '5m' })).toThrow(/has no parameter "replica"; it declares replicas, wait/);
    expect(() => resolveParams(plan, { replicas: 'three', wait: '5m' })).toThrow(/must be a number, got "three"/);
    expect(() => resolveParams(plan, { wait: 'soon' })).toThrow(ParameterError);
    expect(() => resolveParams(plan, {})).toThrow(/"wait" is required/);
  });

  it('drill mode: production steps are simulated, running them is an error', () => {
    const text = `${head}spec:\n  steps:\n    - id: lb\n      uses: http.request\n      with: {url: "http://127.0.0.1/lb"}\n`;
    expect(planOf(text, 'drill').steps[0]!.execution).toBe('simulate');
    expect(planOf(text, 'run').steps[0]!.execution).toBe('run');
    const [e] = errorsOf(text.replace('      uses:', '      drill: run\n      uses:'), { mode: 'drill' });
    expect(e).toMatchObject({ code: 'drill', line: 7 });
    expect(e!.text).toContain('a drill would touch production');
    const overridden = planOf(text.replace('      uses:', '      drill: {with: {url: "http://127.0.0.1/scratch-lb"}}\n      uses:'), 'drill');
    expect(overridden.steps[0]).toMatchObject({ execution: 'run', with: { url: 'http://127.0.0.1/scratch-lb' } });
  });

  it('child runbooks: missing, recursive and invalid ones', () => {
    const step = (path: string) => `${head}spec:\n  steps:\n    - {id: child, uses: runbook, with: {path: ${path}}}\n`;
    // Line 6, column 47 is the path's value in `- {id: child, uses: runbook, with: {path: …}}`.
    expect(errorsOf(step('nope.yaml'))).toEqual([
      { code: 'child_runbook', line: 6, col: 47, text: 'rb.yaml:6:47: runbook "nope.yaml" not found (paths are relative to rb.yaml)' },
    ]);
    // The parent's step is located in the parent; the recursion in the child's own file.
    expect(errorsOf(step('self.yaml'), { files: { 'self.yaml': step('self.yaml') } })).toEqual([
      { code: 'child_runbook', line: 6, col: 47, text: 'rb.yaml:6:47: runbook "self.yaml" does not compile (1 error(s) below)' },
      { code: 'child_runbook', line: 6, col: 47, text: 'self.yaml:6:47: runbook "self.yaml" would run itself: rb.yaml → self.yaml → self.yaml' },
    ]);
    // An error inside the child points into the child's file, at the bad action name.
    const bad = errorsOf(step('bad.yaml'), { files: { 'bad.yaml': `${head}spec:\n  steps: [{id: x, uses: nope}]\n` } });
    expect(bad).toEqual([
      { code: 'child_runbook', line: 6, col: 47, text: 'rb.yaml:6:47: runbook "bad.yaml" does not compile (1 error(s) below)' },
      { code: 'unknown_action', line: 5, col: 25, text: 'bad.yaml:5:25: step "x": unknown action "nope"' },
    ]);
  });

  it('collects every error instead of stopping at the first', () => {
    const errors = errorsOf(
      `${head}spec:\n  steps:\n    - {id: a, uses: nope}\n    - {id: a, uses: log, with: {message: x}}\n    - {id: b, uses: log, needs: [zz], with: {mesage: x}}\n`,
    );
    expect(new Set(errors.map((e) => e.code))).toEqual(new Set(['unknown_action', 'duplicate_step', 'unknown_need', 'action_input']));
  });
});

describe('compiler: plans', () => {
  const text = `${head}spec:\n  steps:\n    - {id: a, uses: log, with: {message: x}, retry: {max_attempts: 5, initial_interval: 2s, backoff: 3}, timeout: 30s}\n    - {id: b, uses: sleep, with: {duration: 1s}}\n`;

  it('maps retry and timeouts to activity options', () => {
    const plan = planOf(text);
    expect(plan.steps[0]).toMatchObject({ retry: { maximum_attempts: 5, initial_interval_ms: 2000, backoff: 3 }, timeout_ms: 30_000 });
  });

  it('hashes content: same text, same hash; any change, another', () => {
    expect(planOf(text).hash).toBe(planOf(text).hash);
    expect(planOf(text.replace('1s', '2s')).hash).not.toBe(planOf(text).hash);
  });

  it('validates cron triggers', () => {
    const [e] = errorsOf(`${head}spec:\n  triggers: {schedule: {cron: "61 * * * *"}}\n  steps: [{id: a, uses: log, with: {message: x}}]\n`);
    expect(e!.text).toContain('triggers.schedule.cron');
  });
});

describe('compiler: YAML traps', () => {
  it('an unquoted expression inside a flow mapping gets an actionable error', () => {
    const [e] = errorsOf(`${head}spec:\n  steps:\n    - {id: a, uses: log, with: {message: \${{ run.id }}}}\n`);
    expect(e).toMatchObject({ code: 'yaml_syntax', line: 6 });
    expect(e!.text).toContain('Quote it');
  });

  it('an alias to a missing anchor is located, not thrown', () => {
    const [e] = errorsOf(`${head}spec:\n  steps: *nothing\n`);
    expect(e!.code).toBe('yaml_syntax');
  });
});

describe('compiler: credentials only from secrets', () => {
  it('a connection string written in the runbook is refused, a secret reference accepted', () => {
    const step = (source: string) =>
      `${head}spec:\n  secrets: {pg: {env: PG_URL}}\n  steps:\n    - id: dump\n      uses: postgres.dump\n      with: {service: s, source: "${source}"}\n`;
    const [e] = errorsOf(step('postgres://admin:hunter2@db/orders'));
    expect(e).toMatchObject({ code: 'action_input', line: 9 });
    expect(e!.text).toContain('source carries credentials; give it as "${{ secrets.NAME }}"');
    expect(planOf(step('${{ secrets.pg }}')).steps[0]!.with.source).toBe('${{ secrets.pg }}');
  });
});

describe('compiler: drills and retries that would go wrong at run time', () => {
  const restore = (drill: string) =>
    `${head}spec:\n  secrets: {pg: {env: PG}}\n  steps:\n    - id: restore\n      uses: postgres.restore\n${drill}      with: {restore_point: rp-1, target: "\${{ secrets.pg }}", clean: true}\n`;

  it('drill overrides must replace where a write lands', () => {
    const [e] = errorsOf(restore('      drill: {with: {}}\n'), { mode: 'drill' });
    expect(e).toMatchObject({ code: 'drill' });
    expect(e!.text).toContain('must replace where the change lands (target or database)');
    const plan = compile(restore('      drill: {with: {database: scratch, create_database: true}}\n'), { file: 'rb.yaml', mode: 'drill' }).plan!;
    expect(plan.steps[0]).toMatchObject({ execution: 'run', with: { database: 'scratch', target: '${{ secrets.pg }}' } });
  });

  it('drill: simulate only for actions that can simulate', () => {
    const [e] = errorsOf(restore('      drill: simulate\n'), { mode: 'drill' });
    expect(e!.text).toContain('postgres.restore cannot report a change without making it');
  });

  it('a restore whose own with: is a scratch restore runs in a drill as written; into a data directory, or a mode from an expression, it needs drill targets', () => {
    const pitr = (mode: string) =>
      `${head}spec:\n  parameters: {mode: {type: string, default: scratch}}\n  steps:\n    - id: restore\n      uses: pgbackrest.restore\n      with: {restore_point: rp-1, target: {time: "2026-12-03T10:00:00Z"}${mode}}\n`;
    expect(planOf(pitr(''), 'drill').steps[0]!.execution).toBe('run');
    expect(planOf(pitr(', mode: scratch'), 'drill').steps[0]!.execution).toBe('run');
    expect(errorsOf(pitr(', mode: place, data_dir: /var/lib/postgresql/15/main'), { mode: 'drill' })[0]!.text).toContain('scratch targets (mode, data_dir)');
    expect(errorsOf(pitr(', mode: "${{ params.mode }}"'), { mode: 'drill' })[0]!.text).toContain('scratch targets (mode, data_dir)');
    expect(planOf(pitr(', mode: place, data_dir: /var/lib/postgresql/15/main')).steps[0]!.execution).toBe('run');
  });

  it('a long initial_interval raises the default max_interval; a shorter max is an error', () => {
    const step = (retry: string) => `${head}spec:\n  steps:\n    - {id: a, uses: log, retry: ${retry}, with: {message: x}}\n`;
    expect(planOf(step('{initial_interval: 2m}')).steps[0]!.retry).toMatchObject({ initial_interval_ms: 120_000, maximum_interval_ms: 120_000 });
    expect(errorsOf(step('{initial_interval: 2m, max_interval: 1m}'))[0]!.text).toContain('max_interval is shorter than initial_interval');
  });

  it('storage credentials must be secrets too', () => {
    const [e] = errorsOf(
      `${head}spec:\n  steps:\n    - id: prune\n      uses: restore_points.prune\n      with: {storage: {url: "s3://b/p", access_key: AKIA, secret_key: hunter2}}\n`,
    );
    expect(e!.text).toContain('storage.access_key carries credentials');
    const [key] = errorsOf(
      `${head}spec:\n  steps:\n    - id: prune\n      uses: restore_points.prune\n      with: {storage: {url: "file:///srv/rb", manifest_key: a-literal-store-key}}\n`,
    );
    expect(key!.text).toContain('storage.manifest_key carries credentials');
  });

  it('object_lock on a file:// store is an error at compile time, located at object_lock', () => {
    const step = (url: string) =>
      `${head}spec:\n  steps:\n    - id: prune\n      uses: restore_points.prune\n      with:\n        storage:\n          url: "${url}"\n          object_lock: {mode: COMPLIANCE, retain: 30d}\n`;
    const text = step('file:///srv/rb');
    const line = text.split('\n').findIndex((l) => l.includes('object_lock')) + 1;
    const [e] = errorsOf(text);
    expect(e!.text).toContain('object_lock needs an s3:// store');
    expect(e!.text).toContain(`rb.yaml:${line}:`);
    expect(planOf(step('s3://b/p')).steps).toHaveLength(1);
  });
});
