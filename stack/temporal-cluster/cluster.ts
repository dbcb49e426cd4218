// A real Temporal cluster for the suite and benches: the pinned server on its own PostgreSQL, SQL visibility, mTLS required on the frontend, a bare `default` namespace.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { CLIENT_AUTH, SERVER_AUTH, makeCa, signedCert } from '../openssl.ts';
import { startPostgres, type PostgresServer } from '../postgres.ts';
import { freePorts } from '../ports.ts';
import { ServerProcess } from '../process.ts';
import { DATA } from '../tools.ts';
import { ensureTemporalServer, type TemporalServerTools } from './build.ts';
import { clusterConfig, DYNAMIC_CONFIG, type ClusterPorts } from './config.ts';

export interface TemporalCluster {
  address: string;
  /** Temporal's standard client variables (@temporalio/envconfig) for this cluster: what a worker, the CLI or serve is given. */
  env: Record<string, string>;
  certs: { ca: string; clientCert: string; clientKey: string; dir: string };
  postgres: PostgresServer;
  logFile: string;
  pid: number;
  /** Stops the server and its PostgreSQL. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  dir?: string;
  log?: (line: string) => void;
}

/** The CA, the frontend's serving certificate (localhost and 127.0.0.1), a client's and the system worker's. */
function makeClusterCerts(dir: string): TemporalCluster['certs'] & { server: string; serverKey: string; systemWorker: string; systemWorkerKey: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  makeCa(dir, 'rebound-temporal-test-ca');
  signedCert(dir, 'frontend', '/CN=localhost', SERVER_AUTH('DNS:localhost,IP:127.0.0.1'));
  signedCert(dir, 'client', '/CN=rebound-client', CLIENT_AUTH);
  signedCert(dir, 'system-worker', '/CN=temporal-system-worker', CLIENT_AUTH);
  const at = (f: string) => join(dir, f);
  return {
    dir,
    ca: at('ca.crt'),
    server: at('frontend.crt'),
    serverKey: at('frontend.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    systemWorker: at('system-worker.crt'),
    systemWorkerKey: at('system-worker.key'),
  };
}

/** Creates both databases and brings their schemas to the newest version the module ships. */
function installSchemas(tools: TemporalServerTools, postgres: PostgresServer): void {
  const env = { ...process.env, SQL_PASSWORD: postgres.password };
  const base = ['--plugin', 'postgres12', '--endpoint', '127.0.0.1', '--port', String(postgres.port), '--user', 'rebound'];
  for (const [database, versioned] of [
    ['temporal', tools.schema.temporal],
    ['temporal_visibility', tools.schema.visibility],
  ] as const) {
    for (const step of [['create-database'], ['setup-schema', '-v', '0.0'], ['update-schema', '-d', versioned]]) {
      const result = spawnSync(tools.sqlTool, [...base, '--database', database, ...step], { encoding: 'utf8', env });
      if (result.status !== 0) throw new Error(`temporal-sql-tool ${step[0]} on ${database} failed: ${(result.stderr || result.stdout).slice(-2000)}`);
    }
  }
}

async function tlsConnection(address: string, certs: TemporalCluster['certs']): Promise<Connection> {
  return Connection.connect({
    address,
    connectTimeout: 2000,
    tls: {
      serverNameOverride: 'localhost',
      serverRootCACertificate: readFileSync(certs.ca),
      clientCertPair: { crt: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) },
    },
  });
}

/** Registers `default` (once the cluster's metadata exists) and waits until the frontend's namespace cache has it. */
async function readyNamespace(address: string, certs: TemporalCluster['certs']): Promise<boolean> {
  const connection = await tlsConnection(address, certs);
  try {
    const service = connection.workflowService;
    await service.registerNamespace({ namespace: 'default', workflowExecutionRetentionPeriod: msToTs('3 days') }).catch((error: { code?: number }) => {
      if (error.code !== 6) throw error; // ALREADY_EXISTS: a second attempt
    });
    await service.listWorkflowExecutions({ namespace: 'default', pageSize: 1 });
    return true;
  } finally {
    await connection.close();
  }
}

export async function startTemporalCluster(options: ClusterOptions = {}): Promise<TemporalCluster> {
  const tools = ensureTemporalServer(options.log);
  const dir = options.dir ?? join(DATA, `temporal-cluster-${process.pid}-${Date.now()}`);
  mkdirSync(join(dir, 'config'), { recursive: true, mode: 0o700 });
  const certs = makeClusterCerts(join(dir, 'certs'));
  const postgres = await startPostgres({ log: options.log });
  try {
    installSchemas(tools, postgres);
    const names: (keyof ClusterPorts)[] = [
      'frontend',
      'frontendHttp',
      'frontendMembership',
      'history',
      'historyMembership',
      'matching',
      'matchingMembership',
      'worker',
      'workerMembership',
      'metrics',
    ];
    const free = await freePorts(names.length);
    const ports = Object.fromEntries(names.map((n, i) => [n, free[i]])) as unknown as ClusterPorts;
    const dynamicConfig = join(dir, 'config', 'dynamic.yaml');
    writeFileSync(dynamicConfig, DYNAMIC_CONFIG);
    const config = clusterConfig({
      ports,
      postgres: { port: postgres.port, user: 'rebound', password: postgres.password },
      tls: { ca: certs.ca, cert: certs.server, key: certs.serverKey, systemWorkerCert: certs.systemWorker, systemWorkerKey: certs.systemWorkerKey },
      dynamicConfig,
    });
    // It holds the database password: private to this user.
    writeFileSync(join(dir, 'config', 'development.yaml'), config, { mode: 0o600 });
    const address = `127.0.0.1:${ports.frontend}`;
    const logFile = join(dir, 'temporal-server.log');
    const proc = new ServerProcess({
      name: `Temporal server ${address} (PostgreSQL on ${postgres.port})`,
      command: tools.server,
      args: ['--root', dir, '--config', 'config', '--env', 'development', 'start'],
      cwd: dir,
      logFile,
      ready: () => readyNamespace(address, certs),
      timeoutMs: 120_000,
      intervalMs: 500,
      logTail: 4000,
      killAfterMs: 20_000,
    });
    await proc.start();
    return {
      address,
      env: {
        TEMPORAL_ADDRESS: address,
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
        TEMPORAL_TLS_SERVER_NAME: 'localhost',
        TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
      },
      certs: { dir: certs.dir, ca: certs.ca, clientCert: certs.clientCert, clientKey: certs.clientKey },
      postgres,
      logFile,
      get pid() {
        return proc.pid ?? -1;
      },
      async stop() {
        await proc.stop();
        await postgres.destroy();
      },
    };
  } catch (error) {
    await postgres.destroy();
    throw error;
  }
}
