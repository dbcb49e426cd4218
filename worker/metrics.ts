// `rebound worker --metrics ADDR`: one /metrics on ADDR serving Rebound's registry followed by the SDK Core's metrics, which Core exports on a private loopback port.
import { createServer, type Server } from 'node:http';
import type { Client } from '@temporalio/client';
import { enableWorkerMetrics } from '../activities/runtime/metrics.ts';
import { freePort } from '../activities/runtime/ports.ts';
import { watchApprovals } from './approvals-waiting.ts';

export interface WorkerMetricsEndpoint {
  /** `http://ADDR/metrics`, what Prometheus scrapes. */
  url: string;
  /** Where Core exports its own metrics, for createWorker's `coreMetricsAddress`: loopback, never meant to be scraped directly. */
  coreAddress: string;
  /** Adds the approvals-waiting gauge, read through this client at scrape time, once the worker is connected. */
  watchApprovals(client: Client, taskQueue: string): void;
  close(): Promise<void>;
}

/** `host:port` (or `[::1]:port`) to what `listen` takes; a port is required, since Prometheus must be told it. */
function parseAddress(address: string): { host: string; port: number } {
  let url: URL | undefined;
  try {
    url = new URL(`http://${address}`);
  } catch {
    url = undefined;
  }
  if (!url || !url.port || url.pathname !== '/' || url.username) throw new Error(`--metrics ${address}: give HOST:PORT to listen on, such as 127.0.0.1:9464`);
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port) };
}

/** Core's text, or a comment saying why it is missing: Rebound's own series are still worth a scrape. */
async function coreText(coreAddress: string): Promise<string> {
  try {
    const answer = await fetch(`http://${coreAddress}/metrics`, { signal: AbortSignal.timeout(5_000) });
    if (!answer.ok) return `# Temporal SDK metrics unavailable: Core answered ${answer.status}\n`;
    return await answer.text();
  } catch (error) {
    return `# Temporal SDK metrics unavailable: ${error instanceof Error ? error.message : String(error)}\n`;
  }
}

function listen(server: Server, host: string, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(`--metrics ${address}: cannot listen (${error.code ?? error.message})${error.code === 'EADDRINUSE' ? ': the port is taken' : ''}`)),
    );
    server.listen(port, host, () => resolve());
  });
}

/**
 * Enables Rebound's metrics and listens on `address` before the worker exists, so a taken
 * port fails the start rather than the first scrape. Both halves are the text format and
 * cannot collide: ours are `rebound_*`, Core's `temporal_*`.
 */
export async function startWorkerMetrics(address: string): Promise<WorkerMetricsEndpoint> {
  const { host, port } = parseAddress(address);
  const registry = enableWorkerMetrics();
  const coreAddress = `127.0.0.1:${await freePort()}`;
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') return void response.writeHead(404).end('only GET /metrics\n');
    void Promise.all([registry.metrics(), coreText(coreAddress)]).then(
      ([ours, core]) => response.writeHead(200, { 'content-type': registry.contentType }).end(`${ours}\n${core}`),
      (error: unknown) => response.writeHead(500).end(`metrics failed: ${String(error)}\n`),
    );
  });
  await listen(server, host, port, address);
  return {
    url: `http://${address}/metrics`,
    coreAddress,
    watchApprovals: (client, taskQueue) => watchApprovals(registry, client, taskQueue),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
