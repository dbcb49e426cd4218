// Unit tests of retry.non_retryable names: catalog codes pass, older names compile with a located warning and match their code too, unknown names are located errors.
import { describe, expect, it } from 'vitest';
import { compile } from './index.ts';

const runbook = (names: string, child = '') => `apiVersion: rebound/v1
kind: Runbook
metadata: {name: retries}
spec:
  steps:
    - id: probe
      uses: http.check
      retry:
        non_retryable: [${names}]
      with: {url: "http://127.0.0.1:1/"}
${child}`;

const compiled = (text: string, files: Record<string, string> = {}) =>
  compile(text, { file: 'rb.yaml', load: (path) => (files[path] !== undefined ? { file: path, text: files[path]! } : undefined) });

describe('compiler: retry.non_retryable', () => {
  it('takes catalog codes as they are, without a word', () => {
    const { plan, errors, warnings } = compiled(runbook('auth_failed, check_failed'));
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    expect(plan!.steps[0]!.retry.non_retryable).toEqual(['auth_failed', 'check_failed']);
  });

  it('compiles an older name with a located warning naming the code to write, and lists that code beside it', () => {
    const { plan, errors, warnings } = compiled(runbook('unauthorized, forbidden, unexpected_status'));
    expect(errors).toEqual([]);
    expect(warnings.map((w) => w.format())).toEqual([
      'rb.yaml:9:25: warning: step "probe" retry.non_retryable: "unauthorized" is an older failure name; write "auth_failed" (docs/failure-codes.md)',
      'rb.yaml:9:39: warning: step "probe" retry.non_retryable: "forbidden" is an older failure name; write "auth_failed" (docs/failure-codes.md)',
      'rb.yaml:9:50: warning: step "probe" retry.non_retryable: "unexpected_status" is an older failure name; write "check_failed" (docs/failure-codes.md)',
    ]);
    // The old names stay (a worker not yet upgraded throws them); each code is listed once.
    expect(plan!.steps[0]!.retry.non_retryable).toEqual(['unauthorized', 'auth_failed', 'forbidden', 'unexpected_status', 'check_failed']);
  });

  it('maps an Elasticsearch/OpenSearch error type the search actions used as a code', () => {
    const { plan, warnings } = compiled(runbook('index_not_found_exception, parsing_exception'));
    expect(warnings.map((w) => w.message)).toEqual([expect.stringContaining('write "not_found"'), expect.stringContaining('write "rejected"')]);
    expect(plan!.steps[0]!.retry.non_retryable).toEqual(['index_not_found_exception', 'not_found', 'parsing_exception', 'rejected']);
  });

  it('refuses a name that is no failure code, located, naming the catalog and the closest code', () => {
    const { plan, errors } = compiled(runbook('auth_faild'));
    expect(plan).toBeUndefined();
    expect(errors.map((e) => `${e.code} ${e.format()}`)).toEqual([
      expect.stringMatching(
        /^failure_code rb\.yaml:9:25: step "probe" retry\.non_retryable: "auth_faild" is not a failure code; did you mean "auth_failed"\? \(the catalog, docs\/failure-codes\.md: auth_failed, unreachable, .*unexpected\)$/,
      ),
    ]);
  });

  it("passes a child runbook's warnings up, located in the child's file", () => {
    const child = runbook('denied').replace('name: retries', 'name: child');
    const parent = `${runbook('timeout')}    - id: sub
      uses: runbook
      with: {path: child.yaml}
`;
    const { errors, warnings } = compiled(parent, { 'child.yaml': child });
    expect(errors).toEqual([]);
    expect(warnings.map((w) => w.format())).toEqual([
      expect.stringMatching(/^child\.yaml:9:25: warning: .*"denied" is an older failure name; write "auth_failed"/),
    ]);
  });
});
