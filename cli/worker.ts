// `rebound worker`: a worker for the task queue `rebound` (or a site's), until SIGTERM.
import type { Command } from 'commander';
import { runWorker } from '../worker/main.ts';

export function registerWorker(cli: Command): void {
  cli
    .command('worker')
    .option('--site <site>', 'serve the task queue of this site')
    .option('--bundle <file>', 'prebuilt workflow bundle')
    .option('--metrics <host:port>', "serve Prometheus metrics (Rebound's and the Temporal SDK's) on /metrics at this address")
    .description('run a worker until SIGTERM')
    .action(async (o) => runWorker(o));
}
