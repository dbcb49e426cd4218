// HTTP action definitions: http.check (read-only status, body, JSON and CEL checks of the response) and http.request (a production change, simulated in drills).
import { z } from 'zod';
import { defineAction } from '../action.ts';
import { DURATION_PATTERN } from '../duration.ts';
import { defineIntegrationSpec } from '../integration.ts';

const request = {
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).default({}),
  timeout: z.string().regex(DURATION_PATTERN, 'a duration such as 5s').default('10s'),
  /** Off only for endpoints with self-signed certificates on a private network. */
  tls_verify: z.boolean().default(true),
};

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const jsonPath = z.string().min(1);

const ORDERING: readonly string[] = ['<', '<=', '>', '>='];

/**
 * One assertion on a JSON field: `{path, equals}` (as runbooks wrote it first, strict
 * equality) or `{path, op, value}`; ordering operators take a number, so they compare numbers.
 * One object with a refinement rather than a union, so a mistake is named field by field.
 */
const JsonAssertion = z
  .strictObject({
    path: jsonPath.describe('dotted path into the JSON body: db.lag, items.0.id'),
    equals: scalar.optional().describe('the value the field must have (strict: "2" is not 2)'),
    op: z.enum(['==', '!=', '<', '<=', '>', '>=']).optional().describe('instead of equals: how the field compares with value'),
    value: scalar.optional().describe('what op compares with; a number for < <= > >='),
  })
  .superRefine(
    (a, ctx) => {
      const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
      if ('equals' in a) {
        if (a.op !== undefined || 'value' in a) issue(a.op !== undefined ? 'op' : 'value', 'give either equals, or op and value');
        return;
      }
      // Each issue sits at the field it misses: a field written as `${{ }}` is dropped before the
      // compiler validates, and the compiler ignores issues at templated fields (compiler/inputs.ts).
      if (a.op === undefined && !('value' in a)) return issue('equals', 'give equals, or op and value');
      if (a.op === undefined) issue('op', 'missing op (==, !=, <, <=, >, >=), or give equals');
      if (!('value' in a)) issue('value', 'missing value, what op compares the field with');
      else if (a.op !== undefined && ORDERING.includes(a.op) && typeof a.value !== 'number')
        issue('value', `op "${a.op}" compares numbers; value must be a number`);
      // Only an assertion that parsed: beside an unknown key (`equal:`), "missing op" would mislead.
    },
    { when: (payload) => payload.issues.length === 0 },
  );
export type JsonAssertion = z.infer<typeof JsonAssertion>;
const ASSERTION_FORMS = 'one assertion or a non-empty list of them: {path, equals: v} or {path, op, value} (op ==, != take any scalar; <, <=, >, >= a number)';

/** What `expect` reads: the names http.check binds on the worker (activities/http/expect.ts). */
export const RESPONSE_ROOTS = ['body', 'status', 'headers', 'latency_ms', 'text'] as const;

/** Health and readiness checks: read-only, so they run in every mode. */
export const httpCheck = defineAction({
  name: 'http.check',
  summary: 'Request a URL and check its status, body, JSON fields or a CEL expression over the response',
  kind: 'activity',
  backend: 'http',
  impact: 'read',
  secret_destinations: { headers: 'url', body: 'url' },
  // The response exists only on the worker, so `expect` is evaluated there, not in the workflow.
  deferred_expressions: { expect: { roots: RESPONSE_ROOTS, against: 'the response' } },
  input: z.strictObject({
    ...request,
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT']).default('GET'),
    body: z.string().optional(),
    expect_status: z.union([z.number().int(), z.array(z.number().int())]).default(200),
    expect_body: z.string().optional(),
    expect_json: z
      .union([JsonAssertion, z.array(JsonAssertion).min(1)], { error: ASSERTION_FORMS })
      .optional()
      .describe('one assertion or a list, all of which must hold: {path, equals} or {path, op: < <= > >= == !=, value}; path is dotted (db.lag, items.0.id)'),
    expect: z
      .string()
      .optional()
      .describe(
        'CEL over the response, evaluated on the worker; must be true. Reads body (JSON, else text), status, headers (lower-case names), latency_ms, text',
      ),
  }),
  output: z.object({ status: z.number(), latency_ms: z.number(), body_excerpt: z.string() }),
});

/**
 * A request that changes something (a load balancer's API, a webhook that fails over a
 * service). Production impact: a drill reports the request instead of sending it.
 */
export const httpRequest = defineAction({
  name: 'http.request',
  summary: 'Send a request that changes something (production impact: simulated in drills)',
  kind: 'activity',
  secret_destinations: { headers: 'url', body: 'url' },
  backend: 'http',
  impact: 'production',
  drill_targets: ['url'],
  simulates: true,
  input: z.strictObject({
    ...request,
    method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
    body: z.string().optional(),
    expect_status: z.union([z.number().int(), z.array(z.number().int())]).default([200, 201, 202, 204]),
  }),
  output: z.object({ status: z.number(), body_excerpt: z.string(), simulated: z.boolean() }),
});

/** The HTTP integration: health checks and webhook-style requests; it writes no restore points. */
export const spec = defineIntegrationSpec({
  name: 'http',
  actions: [httpCheck, httpRequest],
});
