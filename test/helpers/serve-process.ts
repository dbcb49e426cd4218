// Starts `rebound serve` as a separate process and speaks to it: signed alert posts, SIGHUP, restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { REBOUND_BIN } from './worker-process.ts';
import { reap } from './reaper.ts';

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Waits until the output holds `text` after the first `from` characters. */
  waitFor(text: string | RegExp, from?: number, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface ServeKeys {
  token?: string;
  hmacKey?: string;
}

/** Starts serve on a free loopback port and resolves once it logged its "listening" line. */
export async function startServeProcess(options: { address: string; site: string; runbooks: string; env?: Record<string, string> }): Promise<ServeProcess> {
  const args = [REBOUND_BIN, 'serve', '--runbooks', options.runbooks, '--port', '0', '--site', options.site];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, TEMPORAL_ADDRESS: options.address, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  reap(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const waitFor = (text: string | RegExp, from = 0, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const found = () => (typeof text === 'string' ? output.slice(from).includes(text) : text.test(output.slice(from)));
      if (found()) return resolve();
      const timer = setTimeout(() => done(new Error(`serve did not log ${String(text)} within ${timeoutMs}ms:\n${output}`)), timeoutMs);
      const check = () => found() && done();
      const exited = (code: number | null) => done(new Error(`serve exited with ${code}:\n${output}`));
      const done = (error?: Error) => {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        child.off('exit', exited);
        if (error) reject(error);
        else resolve();
      };
      child.stdout!.on('data', check);
      child.once('exit', exited);
    });
  await waitFor('"msg":"listening"');
  const url = /"url":"([^"]+)"/.exec(output.split('\n').find((l) => l.includes('"msg":"listening"'))!)![1]!;
  return {
    child,
    url,
    output: () => output,
    waitFor,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}

/** POSTs a JSON body with the bearer token and/or signature (over `<timestamp>.<body>`, signed `signedAt`) that `keys` holds. */
export async function postAlert(
  url: string,
  body: unknown,
  keys: ServeKeys,
  headers: Record<string, string> = {},
  signedAt = Date.now(),
): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const auth: Record<string, string> = {};
  if (keys.token) auth.authorization = `Bearer ${keys.token}`;
  if (keys.hmacKey) {
    const timestamp = String(Math.floor(signedAt / 1000));
    auth['x-rebound-timestamp'] = timestamp;
    auth['x-rebound-signature'] = `sha256=${createHmac('sha256', keys.hmacKey).update(`${timestamp}.${text}`).digest('hex')}`;
  }
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...auth, ...headers }, body: text });
  const raw = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = { raw };
  }
  return { status: response.status, body: parsed };
}

/** Alertmanager's webhook body (version 4) for alerts with these labels. */
export function alertmanagerBody(alerts: Array<{ labels: Record<string, string>; annotations?: Record<string, string>; status?: 'firing' | 'resolved' }>) {
  return {
    version: '4',
    groupKey: '{}:{alertname="x"}',
    status: alerts.every((a) => a.status === 'resolved') ? 'resolved' : 'firing',
    receiver: 'rebound',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.invalid',
    alerts: alerts.map((a, i) => ({
      status: a.status ?? 'firing',
      labels: a.labels,
      annotations: a.annotations ?? {},
      startsAt: '2026-01-01T03:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.invalid/graph',
      fingerprint: `fp${i}${Object.values(a.labels).join('')}`,
    })),
  };
}
