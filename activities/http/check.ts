// http.check and http.request: send one bounded request and judge its status, body or a JSON field; a failed check is retryable.
import { defineImpl } from '../runtime/wrap.ts';
import { ActionError } from '../runtime/errors.ts';
import { httpCheck, httpRequest } from '../../contract/actions/http.ts';
import { redact, send, statusMatches } from './transport.ts';

function jsonField(body: string, path: string): unknown {
  let value: unknown = JSON.parse(body);
  for (const key of path.split('.')) {
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
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
    if (input.expect_json) {
      let actual: unknown;
      try {
        actual = jsonField(response.body, input.expect_json.path);
      } catch {
        throw new ActionError('check_failed', `${where}: body is not JSON`, { retryable: true });
      }
      if (actual !== input.expect_json.equals) {
        throw new ActionError(
          'check_failed',
          `${where}: ${input.expect_json.path} is ${JSON.stringify(actual)}, expected ${JSON.stringify(input.expect_json.equals)}`,
          { retryable: true },
        );
      }
    }
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
