// `rebound console`: the DR console in the browser (posture, runs, approvals, restore points, reports), on loopback by default, until SIGTERM; SIGHUP re-reads the approvers file and the runbooks.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import { openRestorePoints } from '../activities/restore-points/index.ts';
import { defaultStorage } from '../activities/restore-points/object-store.ts';
import { connectConfig, taskQueueFor, warnIfUnreachable } from '../client/connection.ts';
import { compileFile, type Plan } from '../compiler/index.ts';
import { ConsoleConfigError, startConsole } from '../console/server.ts';
import { AuthConfigError } from '../serve/auth.ts';
import { jsonLog } from '../serve/log.ts';
import { UsageError } from './errors.ts';

export interface ConsoleCommandOptions {
  approvers: string;
  host: string;
  port: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  runbooks?: string;
  storage?: string;
  site?: string;
  publicUrl: string[];
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be a port number (0 picks a free one), not "${value}"`);
  return n;
}

/** Every runbook in the folder that compiles; one that does not is logged and left out (the console still starts). */
export function readRunbooks(dir: string | undefined, log: ReturnType<typeof jsonLog>): { file: string; plan: Plan }[] {
  if (!dir) return [];
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  } catch (error) {
    throw new UsageError(`--runbooks ${dir} cannot be read: ${(error as Error).message}`);
  }
  const out: { file: string; plan: Plan }[] = [];
  for (const name of files.sort()) {
    const file = join(dir, name);
    const { plan, errors } = compileFile(file, 'run');
    if (plan) out.push({ file, plan });
    else log('warn', 'runbook left out: it does not compile', { file, errors: errors.map((e) => e.format()).slice(0, 3) });
  }
  return out;
}

function storageOf(url: string | undefined) {
  const config = defaultStorage();
  return openRestorePoints(url ? { ...config, url, ...(process.env.REBOUND_S3_ENDPOINT ? { endpoint: process.env.REBOUND_S3_ENDPOINT } : {}) } : config);
}

export async function consoleCommand(options: ConsoleCommandOptions): Promise<void> {
  const log = jsonLog();
  const { connectionOptions, namespace } = connectConfig();
  const client = new Client({ connection: Connection.lazy(connectionOptions as Parameters<typeof Connection.lazy>[0]), namespace });
  let runbooks = readRunbooks(options.runbooks, log);
  const settings = {
    host: options.host,
    port: port(options.port),
    approvers: options.approvers,
    taskQueue: taskQueueFor(options.site),
    publicUrls: options.publicUrl,
    posture: { runbooks: () => runbooks, points: storageOf(options.storage), ...(options.storage ? { storageUrl: options.storage } : {}) },
    ...(options.tlsCert ? { tlsCert: options.tlsCert } : {}),
    ...(options.tlsKey ? { tlsKey: options.tlsKey } : {}),
    ...(options.clientCa ? { clientCa: options.clientCa } : {}),
  };
  warnIfUnreachable(connectConfig().connectionOptions, (message, fields) => log('warn', message, fields));
  const server = await startConsole(settings, client, log).catch((error) => {
    if (error instanceof AuthConfigError || error instanceof ConsoleConfigError) throw new UsageError(error.message);
    throw error;
  });
  process.on('SIGHUP', () => {
    log('info', 'SIGHUP: reloading the approvers file and runbooks');
    server.reload();
    try {
      runbooks = readRunbooks(options.runbooks, log);
    } catch (error) {
      log('error', 'runbooks reload failed; keeping those loaded', { error: (error as Error).message });
    }
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log('info', 'stopping', { signal });
      void server
        .close()
        .then(() => client.connection.close())
        .finally(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerConsole(cli: Command): void {
  cli
    .command('console')
    .requiredOption('--approvers <file>', 'the approvers file: approvers decide, its viewers: section may only look (REBOUND_APPROVAL_KEY signs votes)')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: a free one, printed in the "listening" line)', '8443')
    .option('--runbooks <dir>', 'runbooks the posture and drill pages cover')
    .option('--storage <url>', 'restore-point storage to read (default: REBOUND_STORAGE_URL, as the worker)')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--client-ca <file>', "PEM CA of people's client certificates (mTLS sign-in; needs --tls-cert)")
    .option('--public-url <url>', 'a URL browsers use to reach the console, when not the listen address (repeatable)', collect, [])
    .option('--site <site>', 'start failback runs on the workers of this site')
    .description('the DR console in a browser: posture, runs, approvals, restore points and reports, behind the approvers file')
    .action(async (o) => consoleCommand(o));
}
