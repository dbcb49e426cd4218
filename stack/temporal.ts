// The Temporal dev server of the embedded stack and tests: start-dev on loopback with SQLite and search attributes, waited on, restartable.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../contract/run.ts';
import { freePorts } from './ports.ts';
import { ServerProcess } from './process.ts';
import { DATA, ensureTemporalCli } from './tools.ts';

export interface TemporalServer {
  address: string;
  uiUrl?: string;
  dbFile: string;
  logFile: string;
  pid: number;
  stop(): Promise<void>;
  /** Stops and starts the server on the same ports and SQLite file (for restart tests). */
  restart(): Promise<void>;
}

export interface StartOptions {
  /** Folder for the SQLite file and the log; reused across restarts. */
  dir?: string;
  port?: number;
  ui?: boolean;
  log?: (line: string) => void;
  /** Register Rebound's search attributes at start (default); false: a bare server, as a real cluster starts. */
  searchAttributes?: boolean;
}

/** Answers once the frontend serves and the default namespace exists. */
async function serving(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    await connection.workflowService.getSystemInfo({});
    await connection.workflowService.describeNamespace({ namespace: 'default' });
    return true;
  } finally {
    await connection.close();
  }
}

/** Starts `temporal server start-dev` on loopback with a SQLite file, waiting until it answers. */
export async function startTemporal(options: StartOptions = {}): Promise<TemporalServer> {
  const cli = ensureTemporalCli(options.log);
  const dir = options.dir ?? join(DATA, `temporal-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const [port, uiPort, httpPort, metricsPort] = options.port ? [options.port, options.port + 1000, ...(await freePorts(2))] : await freePorts(4);
  const dbFile = join(dir, 'temporal.sqlite');
  const logFile = join(dir, 'temporal.log');
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--db-filename',
    dbFile,
    '--log-level',
    'warn',
    ...Object.entries(options.searchAttributes === false ? {} : SEARCH_ATTRIBUTES).flatMap(([k, v]) => ['--search-attribute', `${k}=${v}`]),
    ...(options.ui ? ['--ui-ip', '127.0.0.1', '--ui-port', String(uiPort)] : ['--headless']),
  ];
  const address = `127.0.0.1:${port}`;
  const proc = new ServerProcess({
    name: `Temporal dev server at ${address}`,
    command: cli,
    args,
    logFile,
    ready: () => serving(address),
    intervalMs: 250,
    logTail: 3000,
    killAfterMs: 10_000,
  });
  // The dev server picks free ports for its internal services itself; another process can
  // take one before it binds ("address already in use"), and then it exits: launch again.
  for (let attempt = 1; ; attempt++) {
    try {
      await proc.start();
      break;
    } catch (error) {
      const collided = proc.exitCode !== null && readFileSync(logFile, 'utf8').includes('address already in use');
      if (!collided || attempt >= 3) throw error;
      options.log?.(`the Temporal dev server lost a port to another process (attempt ${attempt}); starting it again`);
    }
  }
  return {
    address,
    ...(options.ui ? { uiUrl: `http://127.0.0.1:${uiPort}` } : {}),
    dbFile,
    logFile,
    get pid() {
      return proc.pid ?? -1;
    },
    stop: () => proc.stop(),
    restart: async () => {
      await proc.stop();
      await proc.start();
    },
  };
}
