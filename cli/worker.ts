// `rebound worker`: a worker for the task queue `rebound` (or a site's), until SIGTERM.
import type { Command } from 'commander';
import { parseDuration } from '../contract/duration.ts';
import { runWorker } from '../worker/main.ts';
import { UsageError } from './errors.ts';

/** The default drain: enough for a check, a switch or a notification to end; a dump or restore is handed over instead. */
const DEFAULT_DRAIN = '30s';

function drainMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`--drain must be a duration such as 30s or 5m, not "${text}"`);
  return ms;
}

export function registerWorker(cli: Command): void {
  cli
    .command('worker')
    .option('--site <site>', 'serve the task queue of this site')
    .option('--bundle <file>', 'prebuilt workflow bundle')
    .option('--metrics <host:port>', "serve Prometheus metrics (Rebound's and the Temporal SDK's) on /metrics at this address")
    .option(
      '--drain <duration>',
      'on SIGTERM, how long running steps may go on to their end before they are cancelled and retried on another worker (0: at once)',
      DEFAULT_DRAIN,
    )
    .description('run a worker until SIGTERM')
    .action(async (o) => runWorker({ ...o, drainMs: drainMs(o.drain) }));
}
