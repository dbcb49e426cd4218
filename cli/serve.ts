// `rebound serve`: the alert webhook receiver, until SIGTERM; SIGHUP reloads the runbooks and keys.
import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import { connectConfig, taskQueueFor, warnIfUnreachable } from '../client/connection.ts';
import { AuthConfigError } from '../serve/auth.ts';
import { jsonLog } from '../serve/log.ts';
import { RunbookDirectoryError } from '../serve/runbooks.ts';
import { startServe } from '../serve/server.ts';
import { UsageError } from './errors.ts';

export interface ServeCommandOptions {
  runbooks: string;
  host: string;
  port: string;
  tlsCert?: string;
  tlsKey?: string;
  site?: string;
  maxAlerts: string;
  maxRuns: string;
  metricsAuth?: boolean;
  approvers?: string;
  clientCa?: string;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be a port number (0 picks a free one), not "${value}"`);
  return n;
}

function count(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number of at least 1, not "${value}"`);
  return n;
}

/** Lazy: serve starts (and says it is not ready) while Temporal is still down. */
function lazyClient(): Client {
  const { connectionOptions, namespace } = connectConfig();
  return new Client({ connection: Connection.lazy(connectionOptions as Parameters<typeof Connection.lazy>[0]), namespace });
}

export async function serveCommand(options: ServeCommandOptions): Promise<void> {
  const log = jsonLog();
  const client = lazyClient();
  const settings = {
    ...options,
    port: port(options.port),
    taskQueue: taskQueueFor(options.site),
    limits: { alertsPerRequest: count('--max-alerts', options.maxAlerts), runsPerRequest: count('--max-runs', options.maxRuns) },
    metricsAuth: options.metricsAuth ?? false,
  };
  warnIfUnreachable(connectConfig().connectionOptions, (message, fields) => log('warn', message, fields));
  const server = await startServe(settings, client, log).catch((error) => {
    if (error instanceof AuthConfigError || error instanceof RunbookDirectoryError) throw new UsageError(error.message);
    throw error;
  });
  process.on('SIGHUP', () => {
    log('info', 'SIGHUP: reloading runbooks and keys');
    server.reload();
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

export function registerServe(cli: Command): void {
  cli
    .command('serve')
    .requiredOption('--runbooks <dir>', 'directory of runbooks; those with triggers.alert are served (SIGHUP reloads it)')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: a free one, printed in the "listening" line)', '9696')
    .option('--approvers <file>', 'approvers file: turns on the approval API (POST /v1/approvals/RUN/STEP); REBOUND_APPROVAL_KEY signs votes')
    .option('--client-ca <file>', "PEM CA of approvers' client certificates (mTLS; needs --tls-cert)")
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--site <site>', 'start runs on the workers of this site (task queue rebound-<site>)')
    .option('--max-alerts <n>', "alerts one request may carry; more is refused with 413 (set Alertmanager's max_alerts to it)", '100')
    .option('--max-runs <n>', 'distinct runs one request may start or attach to; more is refused with 429 and starts none', '10')
    .option('--metrics-auth', '/metrics asks for the bearer token (REBOUND_SERVE_TOKEN) too')
    .description('receive alert webhooks (Alertmanager, Grafana, PagerDuty v3, generic JSON) and start runbooks, one run per dedup key')
    .action(async (o) => serveCommand(o));
}
