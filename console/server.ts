// Builds and runs `rebound console`: Fastify on loopback by default (HTTPS and mTLS if asked), security headers on every answer, sign-in and sessions, CSRF checks on every POST, and the pages' routes.
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Client } from '@temporalio/client';
import { approvalKey } from '../client/approvals.ts';
import { certificatePerson, cookieName, readCookie, readPeople, Sessions, type People } from './auth.ts';
import type { ConsoleDeps } from './context.ts';
import { Csrf, sameOrigin } from './csrf.ts';
import { registerAuthRoutes } from './routes-auth.ts';
import { registerRunRoutes } from './routes-runs.ts';
import { registerPostureRoutes, type PostureSource } from './routes-posture.ts';
import { ownOrigins, securityHeaders } from './security.ts';

/** Forms carry a token, a reason or a mode: a few KB is plenty. */
const BODY_LIMIT = 16 * 1024;

/** A setting the console cannot honour (TLS files that do not pair): it refuses to start. */
export class ConsoleConfigError extends Error {}

export interface ConsoleOptions {
  host: string;
  port: number;
  /** The approvers file: approvers decide, `viewers:` look. */
  approvers: string;
  taskQueue: string;
  tlsCert?: string;
  tlsKey?: string;
  /** CA of people's client certificates (mTLS); needs tlsCert/tlsKey. */
  clientCa?: string;
  /** Where browsers reach the console when not at the listen address (a proxy, a phone on the LAN): their origins count as its own. */
  publicUrls?: string[];
  /** Runbooks and restore points the posture, restore-point and drill pages read. */
  posture?: PostureSource;
}

export interface RunningConsole {
  url: string;
  /** Reads the approvers file again (SIGHUP): removed people's sessions end; a bad file keeps the old one. */
  reload(): void;
  close(): Promise<void>;
}

function httpsOptions(options: ConsoleOptions) {
  if (options.clientCa && !options.tlsCert) throw new ConsoleConfigError('--client-ca needs HTTPS: give --tls-cert and --tls-key too');
  if (!options.tlsCert && !options.tlsKey) return undefined;
  if (!options.tlsCert || !options.tlsKey) throw new ConsoleConfigError('--tls-cert and --tls-key go together: give both for HTTPS, or neither');
  const base = { cert: readFileSync(options.tlsCert), key: readFileSync(options.tlsKey) };
  // Asked for, not required: people without a certificate sign in with their token.
  return options.clientCa ? { ...base, ca: readFileSync(options.clientCa), requestCert: true, rejectUnauthorized: false } : base;
}

const PUBLIC = [/^\/login(\?|$)/, /^\/static\//, /^\/healthz$/];

interface Guard {
  people: () => People;
  sessions: Sessions;
  csrf: Csrf;
  tls: boolean;
  origins: () => Set<string> | undefined;
  log: ConsoleDeps['log'];
}

function refuse(reply: FastifyReply, status: number, message: string) {
  return reply.code(status).type('text/plain; charset=utf-8').send(message);
}

/** Who the request is from: a verified certificate, else a live session. */
function identifyCaller(guard: Guard, request: FastifyRequest): void {
  const byCert = certificatePerson(guard.people(), request.raw.socket);
  if (byCert) {
    request.caller = { person: byCert, principal: `mtls:${byCert.name}` };
    return;
  }
  const id = readCookie(request.headers, cookieName(guard.tls));
  const person = guard.sessions.get(id);
  if (person && id) request.caller = { person, principal: id };
}

function origins(guard: Guard, request: FastifyRequest): Set<string> {
  return guard.origins() ?? new Set([`${guard.tls ? 'https' : 'http'}://${request.headers.host ?? ''}`]);
}

function hooks(app: FastifyInstance, guard: Guard): void {
  const headers = securityHeaders(guard.tls);
  app.addHook('onRequest', async (request, reply) => {
    reply.headers(headers);
    const own = guard.origins();
    // A Host that is not the console's (DNS rebinding) gets nothing.
    if (own && ![...own].some((o) => new URL(o).host === request.headers.host)) return refuse(reply, 421, 'this console does not answer for that host');
  });
  app.addHook('preHandler', async (request, reply) => {
    identifyCaller(guard, request);
    const isPublic = PUBLIC.some((p) => p.test(request.url));
    if (request.method === 'POST') {
      if (!sameOrigin(request.headers, origins(guard, request))) {
        guard.log('warn', 'console POST refused', { reason: 'origin', url: request.url });
        return refuse(reply, 403, 'refused: this form did not come from the console (Origin)');
      }
      if (isPublic) return;
      if (!request.caller) return refuse(reply, 401, 'sign in first');
      const body = (request.body ?? {}) as Record<string, string>;
      if (!guard.csrf.matches(request.caller.principal, body._csrf)) {
        guard.log('warn', 'console POST refused', { reason: 'csrf', url: request.url, person: request.caller.person.name });
        return refuse(reply, 403, 'refused: the form token is missing or stale; reload the page and try again');
      }
      return;
    }
    if (!isPublic && !request.caller) {
      if (request.url.endsWith('/live')) return refuse(reply, 401, 'signed out');
      return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
    }
  });
}

function formParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
}

function staticFiles(app: FastifyInstance): void {
  const files: [string, string, string][] = [
    ['console.css', 'text/css; charset=utf-8', readFileSync(new URL('./static/console.css', import.meta.url), 'utf8')],
    ['live.js', 'text/javascript; charset=utf-8', readFileSync(new URL('./static/live.js', import.meta.url), 'utf8')],
  ];
  for (const [name, type, text] of files) app.get(`/static/${name}`, (_request, reply) => reply.header('cache-control', 'no-cache').type(type).send(text));
  app.get('/healthz', (_request, reply) => reply.send({ ok: true }));
}

function loadKey() {
  try {
    const key = approvalKey();
    return () => key;
  } catch (error) {
    // Viewing needs no key; casting a vote says what is missing.
    const message = (error as Error).message;
    return () => {
      throw new Error(message);
    };
  }
}

export async function startConsole(options: ConsoleOptions, client: Client, log: ConsoleDeps['log']): Promise<RunningConsole> {
  let people = readPeople(options.approvers);
  const https = httpsOptions(options);
  const tls = !!https;
  const app = (https ? Fastify({ https, bodyLimit: BODY_LIMIT }) : Fastify({ bodyLimit: BODY_LIMIT })) as unknown as FastifyInstance;
  const sessions = new Sessions();
  const csrf = new Csrf();
  let own: Set<string> | undefined = undefined;
  const guard: Guard = { people: () => people, sessions, csrf, tls, origins: () => own, log };
  formParser(app);
  hooks(app, guard);
  staticFiles(app);
  const deps: ConsoleDeps = { client, taskQueue: options.taskQueue, csrf, approvalKey: loadKey(), log };
  registerAuthRoutes(app, deps, { people: () => people, sessions, tls });
  registerRunRoutes(app, deps);
  registerPostureRoutes(app, deps, options.posture);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address() as { port: number };
  const url = `${tls ? 'https' : 'http'}://${options.host.includes(':') ? `[${options.host}]` : options.host}:${address.port}`;
  own = ownOrigins(url, options.host, options.publicUrls ?? []);
  log('info', 'listening', { url, approvers: Object.keys(people.approvers), viewers: Object.keys(people.viewers) });
  return {
    url,
    reload() {
      try {
        people = readPeople(options.approvers);
        sessions.refresh(people);
      } catch (error) {
        log('error', 'reload failed; keeping the approvers file that was loaded', { error: (error as Error).message });
      }
    },
    close: () => app.close(),
  };
}
