// Builds and runs the `rebound serve` HTTP server: Fastify with a 512 KB body limit, raw bodies (for signatures), TLS if asked.
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import { approvalKey } from '../client/approvals.ts';
import { registerApprovalRoutes } from './approvals.ts';
import { loadApprovers, type Approvers } from './approvers.ts';
import { AuthConfigError, loadAuthKeys, type AuthKeys } from './auth.ts';
import { DEFAULT_LIMITS, type Limits } from './limits.ts';
import type { Log } from './log.ts';
import { createMetrics } from './metrics.ts';
import { registerRoutes, routeOf } from './routes.ts';
import { loadRunbooks, type AlertRunbook } from './runbooks.ts';

export const BODY_LIMIT = 512 * 1024;

export interface ServeOptions {
  runbooks: string;
  host: string;
  port: number;
  taskQueue: string;
  tlsCert?: string;
  tlsKey?: string;
  /** Caps per request (alerts, runs, value sizes); DEFAULT_LIMITS for what is not given. */
  limits?: Partial<Limits>;
  /** `/metrics` asks for the bearer token (REBOUND_SERVE_TOKEN must be set). */
  metricsAuth?: boolean;
  /** The approvers file: turns on the approval API (REBOUND_APPROVAL_KEY signs the votes). */
  approvers?: string;
  /** CA of approvers' client certificates (mTLS); needs --tls-cert/--tls-key. */
  clientCa?: string;
}

export interface RunningServe {
  url: string;
  /** Reads the runbooks directory and the keys again (SIGHUP); a failure keeps what was loaded. */
  reload(): void;
  close(): Promise<void>;
}

function httpsOptions(options: ServeOptions): { cert: Buffer; key: Buffer; ca?: Buffer; requestCert?: boolean; rejectUnauthorized?: boolean } | undefined {
  if (options.clientCa && !options.tlsCert) throw new AuthConfigError('--client-ca needs HTTPS: give --tls-cert and --tls-key too');
  if (!options.tlsCert && !options.tlsKey) return undefined;
  if (!options.tlsCert || !options.tlsKey) throw new Error('--tls-cert and --tls-key go together: give both for HTTPS, or neither');
  const base = { cert: readFileSync(options.tlsCert), key: readFileSync(options.tlsKey) };
  // A certificate is asked for, not required: alert senders and token holders connect without one.
  return options.clientCa ? { ...base, ca: readFileSync(options.clientCa), requestCert: true, rejectUnauthorized: false } : base;
}

/** The approvers and the key that signs their votes, when the approval API is on. */
function loadApprovals(options: ServeOptions): { approvers: Approvers; key: KeyObject } | undefined {
  if (!options.approvers) return undefined;
  const approvers = loadApprovers(options.approvers);
  try {
    return { approvers, key: approvalKey() };
  } catch (error) {
    throw new AuthConfigError((error as Error).message);
  }
}

/** Fastify's own refusals (body too large, bad content) in our shape, counted and logged. */
function errorHandler(app: FastifyInstance, log: Log, metrics: ReturnType<typeof createMetrics>): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const route = routeOf(request);
    const status = error.statusCode ?? 500;
    if (status === 413 || status < 500) {
      const reason = status === 413 ? 'too_large' : 'malformed';
      metrics.refused.inc({ route, reason });
      log('warn', 'alert request refused', { route, reason, status });
      return reply.code(status).send({ error: status === 413 ? `body larger than ${BODY_LIMIT} bytes` : error.message });
    }
    log('error', 'request failed', { route, error: error.message.split('\n')[0] });
    return reply.code(500).send({ error: 'internal error; see the server log' });
  });
}

async function temporalReachable(client: Client): Promise<boolean> {
  try {
    await client.connection.withDeadline(Date.now() + 3000, () => client.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  }
}

/** The keys, and the token when /metrics is to ask for it: a setting that could not be honoured stops the start. */
function loadKeys(options: ServeOptions): AuthKeys {
  const keys = loadAuthKeys();
  if (options.metricsAuth && !keys.token) throw new AuthConfigError('--metrics-auth asks for the bearer token on /metrics, but REBOUND_SERVE_TOKEN is not set');
  return keys;
}

export async function startServe(options: ServeOptions, client: Client, log: Log): Promise<RunningServe> {
  let keys: AuthKeys = loadKeys(options);
  let approvals = loadApprovals(options);
  let runbooks: AlertRunbook[] = loadRunbooks(options.runbooks, log);
  const metrics = createMetrics();
  const https = httpsOptions(options);
  const app = (https ? Fastify({ https, bodyLimit: BODY_LIMIT }) : Fastify({ bodyLimit: BODY_LIMIT })) as unknown as FastifyInstance;
  // Every body arrives raw: the signature is over the exact bytes, and JSON errors are ours to word.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));
  errorHandler(app, log, metrics);
  registerRoutes(app, {
    client,
    taskQueue: options.taskQueue,
    runbooks: () => runbooks,
    log,
    metrics,
    keys: () => keys,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    metricsAuth: options.metricsAuth ?? false,
    ready: async () => {
      const problems = (await temporalReachable(client)) ? [] : ['Temporal is not reachable'];
      return { ready: problems.length === 0, problems };
    },
  });
  registerApprovalRoutes(app, { client, log, metrics, approvals: () => approvals });
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address() as { port: number };
  const url = `${https ? 'https' : 'http'}://${options.host.includes(':') ? `[${options.host}]` : options.host}:${address.port}`;
  log('info', 'listening', {
    url,
    task_queue: options.taskQueue,
    runbooks: runbooks.map((r) => r.plan.name),
    approvers: approvals ? Object.keys(approvals.approvers) : undefined,
  });
  return {
    url,
    reload() {
      try {
        keys = loadKeys(options);
        approvals = loadApprovals(options);
        runbooks = loadRunbooks(options.runbooks, log);
      } catch (error) {
        log('error', 'reload failed; still serving what was loaded', { error: (error as Error).message });
      }
    },
    close: () => app.close(),
  };
}
