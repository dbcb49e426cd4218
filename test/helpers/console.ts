// Test helpers for the console: an approvers file with approvers and viewers (fresh tokens), the console started in this process, and signing in over HTTP.
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { stringify } from 'yaml';
import { startConsole, type ConsoleOptions, type RunningConsole } from '../../console/server.ts';

/** alice and bob approve (SREs), vic only views; carol (an approver) and val (a viewer) sign in by certificate. */
const APPROVERS = { alice: ['sre'], bob: ['sre'] };
const VIEWERS = { vic: ['audit'] };

export interface ConsoleUnderTest extends RunningConsole {
  tokens: Record<string, string>;
  approvers: string;
  dir: string;
}

function person(token: string | undefined, groups: string[], certificate?: string) {
  return {
    ...(token ? { token_sha256: createHash('sha256').update(token).digest('hex') } : {}),
    groups,
    ...(certificate ? { certificate } : {}),
  };
}

/** Writes the approvers file and starts the console on a free loopback port. */
export async function startTestConsole(client: Client, options: Partial<ConsoleOptions> = {}): Promise<ConsoleUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-console-'));
  const tokens = Object.fromEntries([...Object.keys(APPROVERS), ...Object.keys(VIEWERS)].map((n) => [n, randomBytes(32).toString('base64url')]));
  const file = {
    approvers: { ...Object.fromEntries(Object.entries(APPROVERS).map(([n, g]) => [n, person(tokens[n], g)])), carol: person(undefined, ['sre'], 'carol') },
    viewers: { ...Object.fromEntries(Object.entries(VIEWERS).map(([n, g]) => [n, person(tokens[n], g)])), val: person(undefined, ['audit'], 'val') },
  };
  const approvers = join(dir, 'approvers.yaml');
  writeFileSync(approvers, stringify(file));
  const running = await startConsole({ host: '127.0.0.1', port: 0, approvers, taskQueue: 'rebound-unused', ...options }, client, () => {});
  return { ...running, tokens, approvers, dir };
}

/** Signs in through the form as a browser would (the form's token, the Origin header); the session cookie. */
export async function signIn(url: string, token: string): Promise<string> {
  const form = await fetch(`${url}/login`);
  const nonce = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const login = /rebound_login=([^;]+)/.exec(form.headers.get('set-cookie') ?? '')![1]!;
  const answer = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url, cookie: `rebound_login=${login}` },
    body: new URLSearchParams({ _csrf: nonce, token, next: '/runs' }).toString(),
  });
  if (answer.status !== 303) throw new Error(`sign-in answered ${answer.status}: ${await answer.text()}`);
  return /(rebound_session=[^;]+)/.exec(answer.headers.get('set-cookie') ?? '')![1]!;
}

/** A page's CSRF token (every signed-in page's sign-out form carries it). */
export function csrfOf(html: string): string {
  return /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
}

/** A CA, a server certificate for 127.0.0.1, client certificates for carol and val, and a "carol" from a CA the console does not know. */
export function consoleCertificates(): Record<
  'ca' | 'serverCert' | 'serverKey' | 'carolCert' | 'carolKey' | 'valCert' | 'valKey' | 'rogueCert' | 'rogueKey',
  string
> {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-console-mtls-'));
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ca = (name: string) =>
    ssl('req', '-x509', '-newkey', 'ed25519', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.pem`), '-days', '2', '-subj', `/CN=${name}`);
  const issue = (name: string, by: string, extra: string[] = []) => {
    ssl('req', '-newkey', 'ed25519', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name.replace(/-.*/, '')}`);
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f(`${by}.pem`),
      '-CAkey',
      f(`${by}.key`),
      '-CAcreateserial',
      '-out',
      f(`${name}.pem`),
      '-days',
      '2',
      ...extra,
    );
  };
  ca('ca');
  ca('rogue-ca');
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  issue('server', 'ca', ['-extfile', f('san.ext')]);
  issue('carol', 'ca');
  issue('val', 'ca');
  issue('carol-rogue', 'rogue-ca');
  return {
    ca: f('ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    carolCert: f('carol.pem'),
    carolKey: f('carol.key'),
    valCert: f('val.pem'),
    valKey: f('val.key'),
    rogueCert: f('carol-rogue.pem'),
    rogueKey: f('carol-rogue.key'),
  };
}
