// The Temporal dev server of the embedded stack and tests: start-dev on loopback with SQLite and search attributes, waited on, restartable.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../contract/run.ts';
import { freePorts } from './ports.ts';
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

async function waitReady(address: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const log = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
  throw new Error(
    `Temporal dev server at ${address} did not become ready within 30s (${child.exitCode !== null ? `exited with ${child.exitCode}` : String(lastError)}).\nServer log (${logFile}):\n${log}`,
  );
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
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    const out = openSync(logFile, 'a');
    child = spawn(cli, args, { stdio: ['ignore', out, out], detached: false });
    await waitReady(address, child, logFile);
  };
  const stop = async (): Promise<void> => {
    if (!child || child.exitCode !== null || child.signalCode) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  // The dev server picks free ports for its internal services itself; another process can
  // take one before it binds ("address already in use"), and then it exits: launch again.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      const collided = child!.exitCode !== null && readFileSync(logFile, 'utf8').includes('address already in use');
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
      return child.pid ?? -1;
    },
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
  };
}
