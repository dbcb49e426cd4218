// HTTP routes of `rebound serve` (the one route table): the two alert routes, health, readiness and metrics.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AlertInfo } from '../contract/trigger.ts';
import { authenticate, hasToken, type AuthKeys } from './auth.ts';
import { bodyOf, decide, statusOf, type DecideContext } from './decide.ts';
import { checkLimits, LimitError, type Limits } from './limits.ts';
import { parseAlertmanager, parseGeneric, PayloadError } from './payload.ts';

export interface RouteDeps extends DecideContext {
  keys: () => AuthKeys;
  limits: Limits;
  /** `/metrics` asks for the bearer token too. */
  metricsAuth: boolean;
  /** Runbooks loaded and Temporal answering. */
  ready: () => Promise<{ ready: boolean; problems: string[] }>;
}

type Parser = (body: Buffer) => AlertInfo[];

/** The alert routes: path → the name metrics and logs give it, and its body's parser. */
const ALERT_ROUTES: Record<string, { route: string; parse: Parser }> = {
  '/v1/alerts/alertmanager': { route: 'alertmanager', parse: parseAlertmanager },
  '/v1/alerts': { route: 'generic', parse: parseGeneric },
};

/** The route name of a request's URL, for refusals Fastify makes before a handler runs. */
export function routeOf(url: string): string {
  const path = url.split('?')[0]!;
  return ALERT_ROUTES[path]?.route ?? path;
}

function refuse(deps: RouteDeps, reply: FastifyReply, route: string, reason: string, status: number, error: string): FastifyReply {
  deps.metrics.refused.inc({ route, reason });
  deps.log('warn', 'alert request refused', { route, reason, status, error });
  return reply.code(status).send({ error });
}

function alertHandler(deps: RouteDeps, route: string, parse: Parser) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    // No detail: a caller without the key learns nothing about what it got wrong.
    if (!authenticate(deps.keys(), request.headers, body)) return refuse(deps, reply, route, 'unauthorized', 401, 'unauthorized');
    try {
      const alerts = parse(body);
      checkLimits(alerts, deps.limits);
      deps.metrics.received.inc({ route }, alerts.length);
      const decisions = await decide(deps, route, alerts, deps.limits);
      return reply.code(statusOf(decisions)).send(bodyOf(decisions));
    } catch (error) {
      if (error instanceof PayloadError) return refuse(deps, reply, route, 'malformed', 400, error.message);
      if (error instanceof LimitError) return refuse(deps, reply, route, error.reason, error.status, error.message);
      throw error;
    }
  };
}

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  for (const [path, { route, parse }] of Object.entries(ALERT_ROUTES)) app.post(path, alertHandler(deps, route, parse));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { ready, problems } = await deps.ready();
    return reply.code(ready ? 200 : 503).send({ ready, problems, runbooks: deps.runbooks().map((r) => r.plan.name) });
  });
  app.get('/metrics', async (request, reply) => {
    const token = deps.keys().token;
    if (deps.metricsAuth && !(token && hasToken(token, request.headers))) return refuse(deps, reply, 'metrics', 'unauthorized', 401, 'unauthorized');
    const text = await deps.metrics.registry.metrics();
    return reply.header('content-type', deps.metrics.registry.contentType).send(text);
  });
}
