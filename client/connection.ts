// Temporal connection settings for CLI and worker (env or config profile), the task queue of a site, and a run's Web UI link.
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { connectExplained, diagnoseConnection, type ConnectSettings } from './connect-errors.ts';

/**
 * Connection settings come from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_TLS_*, TEMPORAL_API_KEY) or a Temporal config profile, as the temporal CLI reads them.
 */
export function connectConfig(env: NodeJS.ProcessEnv = process.env) {
  // An exported-but-empty variable (`TEMPORAL_TLS_CLIENT_CERT_PATH=`) means unset, not a file named "".
  const set = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[0].startsWith('TEMPORAL_') && !!e[1]));
  const config = loadClientConnectConfig({ overrideEnvVars: set });
  return {
    connectionOptions: { address: '127.0.0.1:7233', ...config.connectionOptions },
    namespace: config.namespace ?? 'default',
  };
}

export async function connectClient(): Promise<Client> {
  const { connectionOptions, namespace } = connectConfig();
  const connection = await connectExplained(Connection.connect.bind(Connection), connectionOptions as Parameters<typeof Connection.connect>[0]);
  return new Client({ connection, namespace });
}

/** One task queue per site, so a worker in dc2 runs dc2's steps. */
export function taskQueueFor(site?: string): string {
  return site && site !== 'default' ? `rebound-${site}` : 'rebound';
}

/**
 * The Web UI's page of a run, when one is known: $REBOUND_UI_URL (the embedded stack sets it to
 * its dev server's UI). A real cluster's UI is wherever its operators put it, so without the
 * variable there is no link rather than a guessed one.
 */
export function webUiUrl(namespace: string, workflowId?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const root = env.REBOUND_UI_URL;
  if (!root) return undefined;
  const base = `${root.replace(/\/$/, '')}/namespaces/${namespace}/workflows`;
  return workflowId ? `${base}/${encodeURIComponent(workflowId)}` : base;
}

/**
 * For the long-running commands whose connection is lazy (serve, console): they start while
 * Temporal is down, but TLS settings that can never work are said once at start, with the fix.
 */
export function warnIfUnreachable(settings: unknown, warn: (message: string, fields: Record<string, string>) => void): void {
  const connect = settings as ConnectSettings;
  void diagnoseConnection(connect).then(
    (reason) => reason && warn('cannot connect to Temporal', { address: connect.address ?? '127.0.0.1:7233', reason }),
    () => undefined,
  );
}
