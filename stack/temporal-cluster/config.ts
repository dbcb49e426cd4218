// The Temporal server's static config for the test cluster: PostgreSQL persistence and SQL visibility, loopback ports, mTLS on the frontend.
import { stringify } from 'yaml';

export interface ClusterPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  metrics: number;
}

export interface ClusterConfigInput {
  ports: ClusterPorts;
  postgres: { port: number; user: string; password: string };
  tls: { ca: string; cert: string; key: string; systemWorkerCert: string; systemWorkerKey: string };
  dynamicConfig: string;
}

function store(databaseName: string, input: ClusterConfigInput, maxConns: number) {
  return {
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `127.0.0.1:${input.postgres.port}`,
      connectProtocol: 'tcp',
      user: input.postgres.user,
      password: input.postgres.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  };
}

const service = (grpcPort: number, membershipPort: number, extra: Record<string, unknown> = {}) => ({
  rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
});

/**
 * As the module's development-postgres12.yaml, with three changes: free ports, our
 * credentials, and TLS on the frontend that requires a client certificate signed by the
 * test CA. Internode traffic stays plain (every service is on loopback in one process); the
 * system worker (Schedules) reaches the frontend with its own client certificate.
 */
export function clusterConfig(input: ClusterConfigInput): string {
  const { ports, tls } = input;
  return stringify({
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: { 'postgres-default': store('temporal', input, 20), 'postgres-visibility': store('temporal_visibility', input, 4) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: { prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${ports.metrics}` } },
      tls: {
        frontend: {
          server: { certFile: tls.cert, keyFile: tls.key, requireClientAuth: true, clientCaFiles: [tls.ca] },
          client: { serverName: 'localhost', rootCaFiles: [tls.ca] },
        },
        systemWorker: { certFile: tls.systemWorkerCert, keyFile: tls.systemWorkerKey, client: { serverName: 'localhost', rootCaFiles: [tls.ca] } },
      },
    },
    services: {
      frontend: service(ports.frontend, ports.frontendMembership, { httpPort: ports.frontendHttp }),
      matching: service(ports.matching, ports.matchingMembership),
      history: service(ports.history, ports.historyMembership),
      worker: service(ports.worker, ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `localhost:${ports.frontend}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: input.dynamicConfig, pollInterval: '10s' },
  });
}

/**
 * Dynamic config: search attributes take effect at once (as on the dev server), so a
 * namespace set up by `rebound setup` is usable by the next call rather than ten seconds later.
 */
export const DYNAMIC_CONFIG = stringify({
  'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true, constraints: {} }],
});
