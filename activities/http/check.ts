// http.check and http.request: send one bounded request and judge its status, body, JSON fields or a CEL expression; a failed check is retryable.
import { defineImpl } from '../runtime/wrap.ts';
import { ActionError } from '../runtime/errors.ts';
import { httpCheck, httpRequest } from '../../contract/actions/http.ts';
import { failedAssertions } from './assertions.ts';
import { checkExpect, responseVariables } from './expect.ts';
import { redact, send, statusMatches } from './transport.ts';

/** The body as JSON, when it parses: `{}` (no `json`) when it does not. */
function parseBody(body: string): { json?: unknown } {
  try {
    return { json: JSON.parse(body) as unknown };
  } catch {
    return {};
  }
}

/**
 * A failed check is retryable: the endpoint may be coming up, and the step's retry policy
 * says how long to wait for it.
 */
export const httpCheckImpl = defineImpl({
  spec: httpCheck,
  async run(input, ctx) {
    const response = await send(input, ctx.signal);
    const excerpt = ctx.mask(response.body.slice(0, 200));
    const where = `${input.method} ${redact(input.url)}`;
    if (!statusMatches(response.status, input.expect_status)) {
      throw new ActionError('check_failed', `${where} answered ${response.status}, expected ${JSON.stringify(input.expect_status)}`, { retryable: true });
    }
    if (input.expect_body !== undefined && !response.body.includes(input.expect_body)) {
      throw new ActionError('check_failed', `${where}: body does not contain ${JSON.stringify(input.expect_body)}`, { retryable: true });
    }
    const parsed = input.expect_json || input.expect !== undefined ? parseBody(response.body) : {};
    if (input.expect_json) {
      if (!('json' in parsed)) throw new ActionError('check_failed', `${where}: body is not JSON`, { retryable: true });
      const failed = failedAssertions(parsed.json, input.expect_json);
      if (failed.length) throw new ActionError('check_failed', ctx.mask(`${where}: ${failed.join('; ')}`), { retryable: true });
    }
    // Evaluated here, not in the workflow: the compiler stored it bare (compiler/deferred.ts).
    if (input.expect !== undefined) checkExpect(input.expect, responseVariables(response, parsed), where, ctx.mask);
    return { status: response.status, latency_ms: response.latency_ms, body_excerpt: excerpt };
  },
});

/** A 4xx from a change request will not get better by retrying; a 5xx or no answer might. */
export const httpRequestImpl = defineImpl({
  spec: httpRequest,
  async run(input, ctx) {
    const response = await send(input, ctx.signal);
    if (!statusMatches(response.status, input.expect_status)) {
      throw new ActionError('check_failed', `${input.method} ${redact(input.url)} answered ${response.status}: ${ctx.mask(response.body.slice(0, 200))}`, {
        retryable: response.status >= 500 || response.status === 429,
      });
    }
    return { status: response.status, body_excerpt: ctx.mask(response.body.slice(0, 200)), simulated: false };
  },
  async simulate(input) {
    return { status: 0, body_excerpt: `would send ${input.method} ${redact(input.url)}`, simulated: true };
  },
});
