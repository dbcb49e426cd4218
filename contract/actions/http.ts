// HTTP action definitions: http.check (read-only status, body and JSON checks) and http.request (a production change, simulated in drills).
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

/** Health and readiness checks: read-only, so they run in every mode. */
export const httpCheck = defineAction({
  name: 'http.check',
  summary: 'Request a URL and check its status, body or a JSON field',
  kind: 'activity',
  backend: 'http',
  impact: 'read',
  secret_destinations: { headers: 'url', body: 'url' },
  input: z.strictObject({
    ...request,
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT']).default('GET'),
    body: z.string().optional(),
    expect_status: z.union([z.number().int(), z.array(z.number().int())]).default(200),
    expect_body: z.string().optional(),
    expect_json: z.strictObject({ path: z.string().min(1), equals: z.union([z.string(), z.number(), z.boolean(), z.null()]) }).optional(),
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
