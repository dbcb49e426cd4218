// HTTP routes of `rebound serve`: the two alert routes, health, readiness and metrics.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AlertInfo } from '../contract/trigger.ts';
import { authenticate, type AuthKeys } from './auth.ts';
import { bodyOf, decide, statusOf, type DecideContext } from './decide.ts';
import { parseAlertmanager, parseGeneric, PayloadError } from './payload.ts';

export interface RouteDeps extends DecideContext {
  keys: () => AuthKeys;
  /** Runbooks loaded and Temporal answering. */
  ready: () => Promise<{ ready: boolean; problems: string[] }>;
}

type Parser = (body: Buffer) => AlertInfo[];

function refuse(deps: RouteDeps, reply: FastifyReply, route: string, reason: string, status: number, error: string): FastifyReply {
  deps.metrics.refused.inc({ route, reason });
  deps.log('warn', 'alert request refused', { route, reason, status });
  return reply.code(status).send({ error });
}

function alertHandler(deps: RouteDeps, route: string, parse: Parser) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    // No detail: a caller without the key learns nothing about what it got wrong.
    if (!authenticate(deps.keys(), request.headers, body)) return refuse(deps, reply, route, 'unauthorized', 401, 'unauthorized');
    let alerts: AlertInfo[];
    try {
      alerts = parse(body);
    } catch (error) {
      if (error instanceof PayloadError) return refuse(deps, reply, route, 'malformed', 400, error.message);
      throw error;
    }
    deps.metrics.received.inc({ route }, alerts.length);
    const decisions = await decide(deps, route, alerts);
    return reply.code(statusOf(decisions)).send(bodyOf(decisions));
  };
}

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.post('/v1/alerts/alertmanager', alertHandler(deps, 'alertmanager', parseAlertmanager));
  app.post('/v1/alerts', alertHandler(deps, 'generic', parseGeneric));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { ready, problems } = await deps.ready();
    return reply.code(ready ? 200 : 503).send({ ready, problems, runbooks: deps.runbooks().map((r) => r.plan.name) });
  });
  app.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.header('content-type', deps.metrics.registry.contentType).send(text);
  });
}
