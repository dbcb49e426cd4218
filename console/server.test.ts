// The console's boundary over HTTP against a real Temporal server: security headers and CSP, sign-in by token (sessions: HttpOnly, SameSite=Strict), CSRF and Origin checks on every POST, viewers refused decisions, foreign Host refused, mTLS sign-in.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { loadApprovers, loadPeople } from '../serve/approvers.ts';
import { connect } from '../test/helpers/runs.ts';
import { consoleCertificates, csrfOf, signIn, startTestConsole, type ConsoleUnderTest } from '../test/helpers/console.ts';
import { CSP } from './security.ts';

let client: Client;
let consoleApp: ConsoleUnderTest;

beforeAll(async () => {
  client = await connect(inject('temporalAddress'));
  consoleApp = await startTestConsole(client);
});
afterAll(async () => {
  await consoleApp?.close();
  await client?.connection.close();
});

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

async function post(path: string, cookie: string, fields: Record<string, string>, headers: Record<string, string> = { origin: consoleApp.url }) {
  return fetch(`${consoleApp.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers },
    body: form(fields),
  });
}

async function pageAs(cookie: string, path = '/runs'): Promise<string> {
  const answer = await fetch(`${consoleApp.url}${path}`, { headers: { cookie }, redirect: 'manual' });
  expect(answer.status).toBe(200);
  return answer.text();
}

describe('console boundary', () => {
  it('every answer carries the strict CSP and security headers; pages load nothing from elsewhere and hold no inline script or style', async () => {
    for (const path of ['/login', '/static/console.css', '/static/live.js', '/runs']) {
      const answer = await fetch(`${consoleApp.url}${path}`, { redirect: 'manual' });
      expect(answer.headers.get('content-security-policy')).toBe(CSP);
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      expect(answer.headers.get('referrer-policy')).toBe('same-origin');
    }
    expect(CSP).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    const html = await pageAs(await signIn(consoleApp.url, consoleApp.tokens.alice!));
    expect(html).not.toMatch(/<script(?![^>]*\ssrc="\/static\/)/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('signs in with a token: a wrong one is refused, a right one gives an HttpOnly SameSite=Strict session naming the person and role', async () => {
    const unsigned = await fetch(`${consoleApp.url}/runs?state=running`, { redirect: 'manual' });
    expect(unsigned.status).toBe(303);
    expect(unsigned.headers.get('location')).toBe('/login?next=%2Fruns%3Fstate%3Drunning');
    expect((await fetch(`${consoleApp.url}/runs/x/live`, { redirect: 'manual' })).status).toBe(401);

    await expect(signIn(consoleApp.url, 'not-a-token-anyone-has')).rejects.toThrow(/answered 401/);
    const loginPage = await fetch(`${consoleApp.url}/login`);
    const nonce = csrfOf(await loginPage.text());
    // The form without its cookie (another site's page posting it) is refused.
    const noCookie = await fetch(`${consoleApp.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: consoleApp.url },
      body: form({ _csrf: nonce, token: consoleApp.tokens.vic! }),
    });
    expect(noCookie.status).toBe(403);

    const form0 = await fetch(`${consoleApp.url}/login`);
    const login = /rebound_login=([^;]+)/.exec(form0.headers.get('set-cookie')!)![1]!;
    const answer = await fetch(`${consoleApp.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: consoleApp.url, cookie: `rebound_login=${login}` },
      body: form({ _csrf: csrfOf(await form0.text()), token: consoleApp.tokens.vic!, next: '//evil.example/' }),
    });
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/');
    const cookie = answer.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^rebound_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+/);
    const html = await pageAs(/(rebound_session=[^;]+)/.exec(cookie)![1]!);
    expect(html).toContain('vic <span class="role">(viewer)</span>');
  });

  it('refuses a POST without the form token, with a stale one, from another origin, or with neither Origin nor Referer', async () => {
    const cookie = await signIn(consoleApp.url, consoleApp.tokens.alice!);
    const csrf = csrfOf(await pageAs(cookie));
    expect((await post('/runs/some-run/cancel', cookie, {})).status).toBe(403);
    expect((await post('/runs/some-run/cancel', cookie, { _csrf: 'x'.repeat(43) })).status).toBe(403);
    expect((await post('/runs/some-run/cancel', cookie, { _csrf: csrf }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await post('/runs/some-run/cancel', cookie, { _csrf: csrf }, {})).status).toBe(403);
    expect((await post('/runs/some-run/cancel', cookie, { _csrf: csrf }, { referer: 'http://evil.example/page' })).status).toBe(403);
    // Another person's token does not pass for this session.
    const other = csrfOf(await pageAs(await signIn(consoleApp.url, consoleApp.tokens.bob!)));
    expect((await post('/logout', cookie, { _csrf: other })).status).toBe(403);
    // With its own token and origin, the POST goes through: signed out, the session is gone.
    const out = await post('/logout', cookie, { _csrf: csrf }, { referer: `${consoleApp.url}/runs` });
    expect(out.status).toBe(303);
    expect((await fetch(`${consoleApp.url}/runs`, { headers: { cookie }, redirect: 'manual' })).status).toBe(303);
  });

  it('a viewer cannot decide, cancel, start a failback or a verification, even with a valid form token', async () => {
    const cookie = await signIn(consoleApp.url, consoleApp.tokens.vic!);
    const csrf = csrfOf(await pageAs(cookie));
    for (const path of ['/runs/r/approvals/gate', '/runs/r/cancel', '/runs/r/failback', '/restore-points/verify']) {
      const answer = await post(path, cookie, { _csrf: csrf, decision: 'approve', reason: 'x', mode: 'drill', point: 'p1' });
      expect(answer.status).toBe(403);
      expect(await answer.text()).toContain('Only approvers can do this');
    }
  });

  it("an approver's verification names a point and, for scratch, a variable of the worker: a URL there is refused, never sent", async () => {
    const cookie = await signIn(consoleApp.url, consoleApp.tokens.alice!);
    const csrf = csrfOf(await pageAs(cookie));
    const url = await post('/restore-points/verify', cookie, { _csrf: csrf, point: 'p1', scratch_env: 'postgres://u:secret@db/x' });
    expect(url.status).toBe(400);
    const text = await url.text();
    expect(text).toContain('names an environment variable of the worker');
    expect(text).not.toContain('secret@db');
    expect((await post('/restore-points/verify', cookie, { _csrf: csrf, point: '../etc' })).status).toBe(400);
  });

  it('answers no Host but its own (DNS rebinding)', async () => {
    const port = new URL(consoleApp.url).port;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/login', headers: { host: `rebinding.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
  });

  it('reads viewers from the approvers file; serve votes only with approvers; a name in both sections is refused', () => {
    expect(Object.keys(loadPeople(consoleApp.approvers).viewers)).toEqual(['vic', 'val']);
    expect(Object.keys(loadApprovers(consoleApp.approvers))).toEqual(['alice', 'bob', 'carol']);
    const both = join(consoleApp.dir, 'both.yaml');
    writeFileSync(both, readFileSync(consoleApp.approvers, 'utf8').replace('viewers:\n', 'viewers:\n  alice:\n    certificate: alice\n'));
    expect(() => loadPeople(both)).toThrow(/alice listed as both approver and viewer/);
  });
});

describe('console over mTLS', () => {
  it('a client certificate signs its holder in (approver or viewer) with no form; one from another CA does not; cookies are Secure under TLS', async () => {
    const pem = consoleCertificates();
    const tls = await startTestConsole(client, { tlsCert: pem.serverCert, tlsKey: pem.serverKey, clientCa: pem.ca });
    const get = (path: string, cert?: string, key?: string) =>
      new Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
        const url = new URL(path, tls.url);
        const req = httpsRequest(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            ca: readFileSync(pem.ca),
            ...(cert ? { cert: readFileSync(cert), key: readFileSync(key!) } : {}),
          },
          (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    try {
      const carol = await get('/runs', pem.carolCert, pem.carolKey);
      expect(carol.status).toBe(200);
      expect(carol.body).toContain('carol <span class="role">(approver)</span>');
      expect(carol.headers['strict-transport-security']).toBe('max-age=31536000');
      const val = await get('/runs', pem.valCert, pem.valKey);
      expect(val.body).toContain('val <span class="role">(viewer)</span>');
      expect((await get('/runs', pem.rogueCert, pem.rogueKey)).status).toBe(303);
      const login = await get('/login');
      expect(String(login.headers['set-cookie'])).toMatch(/rebound_login=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Secure/);
    } finally {
      await tls.close();
    }
  });
});
