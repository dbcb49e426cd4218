// What every console route shares: its dependencies, the person a request is from (set by server.ts's hook), and answering with a page or a refusal.
import type { KeyObject } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Person } from './auth.ts';
import type { Csrf } from './csrf.ts';
import { page } from './layout.ts';
import { esc } from './html.ts';

export interface ConsoleDeps {
  client: Client;
  /** Task queue failback runs start on (their steps may name sites of their own). */
  taskQueue: string;
  csrf: Csrf;
  /** Signs the votes approvers cast here, as serve's approval API does. */
  approvalKey: () => KeyObject;
  /** One event per line (rebound console passes serve's JSON log); fields hold no secrets. */
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, string | number | boolean | string[] | undefined>) => void;
}

export interface Caller {
  person: Person;
  /** The session id, or `mtls:<name>`: what the CSRF token is derived from. */
  principal: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

/** The caller, which the auth hook guarantees on every route but /login and /static. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error('no caller: the auth hook did not run');
  return request.caller;
}

export function send(reply: FastifyReply, html: string, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}

/** A full page for the caller: their name, role and CSRF token in the shell. */
export function render(
  deps: ConsoleDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  title: string,
  body: string,
  extra: { status?: number; head?: string } = {},
) {
  const caller = callerOf(request);
  const path = request.url.split('?')[0];
  const ctx = { person: caller.person, csrf: deps.csrf.token(caller.principal), path, ...(extra.head ? { head: extra.head } : {}) };
  return send(reply, page(title, body, ctx), extra.status);
}

export function problem(deps: ConsoleDeps, request: FastifyRequest, reply: FastifyReply, status: number, title: string, message: string) {
  return render(deps, request, reply, title, `<p class="error" role="alert">${esc(message)}</p>`, { status });
}

/** Approver-only actions: a viewer's POST is refused, whatever the page showed. */
export function requireApprover(deps: ConsoleDeps, request: FastifyRequest, reply: FastifyReply): boolean {
  if (callerOf(request).person.role === 'approver') return true;
  deps.log('warn', 'console action refused', { reason: 'viewer', person: callerOf(request).person.name, url: request.url });
  void problem(deps, request, reply, 403, 'Not allowed', 'Only approvers can do this; you are signed in as a viewer.');
  return false;
}
