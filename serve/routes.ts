// HTTP routes of `rebound serve`: the alert routes (one table: path, parser, auth, by the source name that labels them; a numbered event checked for freshness and replays), health, readiness and metrics.
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AlertInfo, AlertSource } from '../contract/trigger.ts';
import { authenticate, authenticateGrafana, authenticatePagerDuty, hasToken, type AuthKeys } from './auth.ts';
import { bodyOf, decide, statusOf, type DecideContext } from './decide.ts';
import { checkLimits, LimitError, type Limits } from './limits.ts';
import { parseAlertmanager, parseGeneric, PayloadError, type Parsed } from './payload.ts';
import { parseGrafana } from './payload-grafana.ts';
import { parsePagerDuty } from './payload-pagerduty.ts';
import { RecentEvents } from './replay.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The `route` label of the route's metrics and logs; without it, the path. */
    route?: string;
  }
}

export interface RouteDeps extends DecideContext {
  keys: () => AuthKeys;
  limits: Limits;
  /** `/metrics` asks for the bearer token too. */
  metricsAuth: boolean;
  /** Runbooks loaded and Temporal answering. */
  ready: () => Promise<{ ready: boolean; problems: string[] }>;
}

/** One alert route: where it listens, what its body parses into, whether a request may send alerts. */
interface AlertRoute<S extends AlertSource> {
  path: string;
  parse: (body: Buffer) => Parsed<S>;
  auth: (keys: AuthKeys, headers: IncomingHttpHeaders, body: Buffer) => boolean;
}

const alertsOnly =
  <S extends AlertSource>(parse: (body: Buffer) => AlertInfo<S>[]) =>
  (body: Buffer): Parsed<S> => ({ alerts: parse(body) });

/** Every alert source's route; its name is the alerts' `source` (the parser's type checks it) and the route's metric label. */
const ALERT_ROUTES: { [S in AlertSource]: AlertRoute<S> } = {
  alertmanager: { path: '/v1/alerts/alertmanager', parse: alertsOnly(parseAlertmanager), auth: authenticate },
  generic: { path: '/v1/alerts', parse: alertsOnly(parseGeneric), auth: authenticate },
  pagerduty: { path: '/v1/alerts/pagerduty', parse: parsePagerDuty, auth: authenticatePagerDuty },
  grafana: { path: '/v1/alerts/grafana', parse: parseGrafana, auth: authenticateGrafana },
};

/** The route label of a request, for refusals Fastify makes before a handler runs. */
export function routeOf(request: FastifyRequest): string {
  return request.routeOptions.config?.route ?? request.url.split('?')[0]!;
}

function refuse(deps: RouteDeps, reply: FastifyReply, route: string, reason: string, status: number, error: string): FastifyReply {
  deps.metrics.refused.inc({ route, reason });
  deps.log('warn', 'alert request refused', { route, reason, status, error });
  return reply.code(status).send({ error });
}

function alertHandler<S extends AlertSource>(deps: RouteDeps, events: RecentEvents, route: S, { parse, auth }: AlertRoute<S>) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    // No detail: a caller without the key learns nothing about what it got wrong.
    if (!auth(deps.keys(), request.headers, body)) return refuse(deps, reply, route, 'unauthorized', 401, 'unauthorized');
    try {
      const { alerts, ignored, event } = parse(body);
      // A numbered event (PagerDuty's), whose signature covers no time: its own time and id bound a replay.
      if (event) {
        const verdict = events.check(route, event);
        // 2xx too: a 4xx would count towards PagerDuty disabling the webhook, in the middle of an incident.
        if ('refused' in verdict) {
          deps.metrics.refused.inc({ route, reason: 'stale' });
          deps.log('warn', 'alert event refused as a replay', { route, event: event.id, reason: verdict.refused });
          return reply.code(200).send({ decisions: [], ignored: verdict.refused });
        }
        // 2xx, not 409: PagerDuty takes any 4xx as a failed delivery (dropped unretried; three in a row disable the webhook for a day).
        if (verdict.seen) {
          deps.log('info', 'alert event already handled', { route, event: event.id });
          return reply.code(200).send({ decisions: [], duplicate: true, event: event.id });
        }
      }
      if (ignored) {
        deps.log('info', 'alert event ignored', { route, event: event?.id, reason: ignored });
        if (event) events.remember(route, event);
        return reply.code(200).send({ decisions: [], ignored });
      }
      checkLimits(alerts, deps.limits);
      deps.metrics.received.inc({ route }, alerts.length);
      const decisions = await decide(deps, route, alerts, deps.limits);
      const status = statusOf(decisions);
      if (event && status < 500) events.remember(route, event);
      return reply.code(status).send(bodyOf(decisions));
    } catch (error) {
      if (error instanceof PayloadError) return refuse(deps, reply, route, 'malformed', 400, error.message);
      if (error instanceof LimitError) return refuse(deps, reply, route, error.reason, error.status, error.message);
      throw error;
    }
  };
}

function registerAlertRoutes(app: FastifyInstance, deps: RouteDeps): void {
  // One memory per server: a restart forgets, and a replay inside the window then meets dedup and cooldown.
  const events = new RecentEvents();
  const register = <S extends AlertSource>(source: S) =>
    app.post(ALERT_ROUTES[source].path, { config: { route: source } }, alertHandler(deps, events, source, ALERT_ROUTES[source]));
  for (const source of Object.keys(ALERT_ROUTES) as AlertSource[]) register(source);
}

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  registerAlertRoutes(app, deps);
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
