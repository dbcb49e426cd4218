// Signing in and out: the sign-in form (its own double-submit token, since there is no session yet), a token exchanged once for a session cookie, repeated failures slowed down, sign-out.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { cookieName, MAX_MS, readCookie, sessionCookie, tokenPerson, type People, type Sessions } from './auth.ts';
import { callerOf, send, type ConsoleDeps } from './context.ts';
import { esc } from './html.ts';
import { page } from './layout.ts';

const LOGIN_COOKIE = 'rebound_login';
/** Failed sign-ins one address may make per window before it is told to wait. */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_MS = 5 * 60_000;

interface AuthState {
  people: () => People;
  sessions: Sessions;
  tls: boolean;
}

/** Only a path of this console: never `//host` or a scheme, so the redirect stays here. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/';
}

function loginPage(nonce: string, next: string, message?: string): string {
  const error = message ? `<p class="error" role="alert">${esc(message)}</p>` : '';
  const form = `${error}<form method="post" action="/login" class="login">
<input type="hidden" name="_csrf" value="${esc(nonce)}">
<input type="hidden" name="next" value="${esc(next)}">
<label for="token">Your token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
<p class="hint">The token is the one named for you in the approvers file (<code>rebound keys token NAME</code> made it). A client certificate signs you in without it.</p>`;
  return page('Sign in', form, {});
}

/** The browser's login cookie is kept when it has one: a second tab, or any request that lands on /login, must not void the form already shown. */
function showLogin(request: FastifyRequest, reply: FastifyReply, tls: boolean, next: string, status = 200, message?: string) {
  const held = readCookie(request.headers, LOGIN_COOKIE);
  const nonce = held && /^[A-Za-z0-9_-]{32}$/.test(held) ? held : randomBytes(24).toString('base64url');
  reply.header('set-cookie', sessionCookie(LOGIN_COOKIE, nonce, tls, 600));
  return send(reply, loginPage(nonce, next, message), status);
}

function sameNonce(request: FastifyRequest, given: unknown): boolean {
  const cookie = readCookie(request.headers, LOGIN_COOKIE);
  if (!cookie || typeof given !== 'string') return false;
  const [a, b] = [Buffer.from(cookie), Buffer.from(given)];
  return a.length === b.length && timingSafeEqual(a, b);
}

export function registerAuthRoutes(app: FastifyInstance, deps: ConsoleDeps, state: AuthState): void {
  const failures = new Map<string, number[]>();
  const recent = (ip: string) => (failures.get(ip) ?? []).filter((t) => Date.now() - t < FAILURE_WINDOW_MS);

  app.get<{ Querystring: { next?: string } }>('/login', (request, reply) => {
    if (request.caller) return reply.redirect(safeNext(request.query.next), 303);
    return showLogin(request, reply, state.tls, safeNext(request.query.next));
  });

  app.post<{ Body: Record<string, string> }>('/login', (request, reply) => {
    const body = request.body ?? {};
    const next = safeNext(body.next);
    if (!sameNonce(request, body._csrf)) return showLogin(request, reply, state.tls, next, 403, 'The sign-in form expired; try again.');
    if (recent(request.ip).length >= MAX_FAILURES)
      return showLogin(request, reply, state.tls, next, 429, 'Too many failed sign-ins from here; wait a few minutes.');
    const person = tokenPerson(state.people(), body.token ?? '');
    if (!person) {
      failures.set(request.ip, [...recent(request.ip), Date.now()]);
      deps.log('warn', 'console sign-in refused', { ip: request.ip });
      return showLogin(request, reply, state.tls, next, 401, 'That token is not in the approvers file.');
    }
    const id = state.sessions.open(person);
    deps.log('info', 'console sign-in', { person: person.name, role: person.role });
    reply.header('set-cookie', [sessionCookie(cookieName(state.tls), id, state.tls, Math.floor(MAX_MS / 1000)), sessionCookie(LOGIN_COOKIE, '', state.tls, 0)]);
    return reply.redirect(next, 303);
  });

  app.post('/logout', (request, reply) => {
    const caller = callerOf(request);
    if (!caller.principal.startsWith('mtls:')) state.sessions.close(caller.principal);
    reply.header('set-cookie', sessionCookie(cookieName(state.tls), '', state.tls, 0));
    return reply.redirect('/login', 303);
  });
}
