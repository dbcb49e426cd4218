// `rebound serve`: the alert webhook receiver, until SIGTERM; SIGHUP reloads the runbooks and keys.
import { Client, Connection } from '@temporalio/client';
import { connectConfig, taskQueueFor } from '../client/connection.ts';
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
