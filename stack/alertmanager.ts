// Prometheus Alertmanager from Debian for tests: one instance on a loopback port, clustering off, its webhooks sent to `rebound serve`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall } from './apt.ts';
import { freePort } from './ports.ts';
import { ServerProcess } from './process.ts';

const BINARY = '/usr/bin/prometheus-alertmanager';

/** Debian 12's Alertmanager (0.25), installed with apt-get when missing; the package's own service is never used. */
export function ensureAlertmanager(log: (line: string) => void = () => {}): string {
  aptInstall('Alertmanager', ['prometheus-alertmanager'], () => existsSync(BINARY), log);
  spawnSync('systemctl', ['disable', '--now', 'prometheus-alertmanager.service'], { stdio: 'ignore' });
  return BINARY;
}

export interface AlertmanagerReceiver {
  /** Where the webhook posts, e.g. serve's `/v1/alerts/alertmanager`. */
  url: string;
  /** Sent as `Authorization: Bearer …`, read from a 0600 file beside the configuration. */
  bearerToken: string;
}

export interface AlertmanagerServer {
  url: string;
  pid(): number | undefined;
  /** Posts alerts to its v2 API, as Prometheus does. */
  postAlerts(alerts: Array<{ labels: Record<string, string>; annotations?: Record<string, string> }>): Promise<void>;
  stop(): Promise<void>;
}

/** One route grouping by alertname: alerts that arrive together reach the webhook as one batch. */
function configText(receiver: AlertmanagerReceiver, tokenFile: string): string {
  return `route:
  receiver: rebound
  group_by: [alertname]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
receivers:
  - name: rebound
    webhook_configs:
      - url: ${JSON.stringify(receiver.url)}
        send_resolved: true
        http_config:
          authorization: {type: Bearer, credentials_file: ${JSON.stringify(tokenFile)}}
`;
}

export async function startAlertmanager(options: { receiver: AlertmanagerReceiver; log?: (line: string) => void }): Promise<AlertmanagerServer> {
  const binary = ensureAlertmanager(options.log);
  const dir = mkdtempSync(join(tmpdir(), 'rebound-alertmanager-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, options.receiver.bearerToken, { mode: 0o600 });
  writeFileSync(join(dir, 'alertmanager.yml'), configText(options.receiver, tokenFile));
  const proc = new ServerProcess({
    name: `Alertmanager on ${url}`,
    command: binary,
    // An empty cluster address turns gossip off: nothing binds beyond the loopback web port.
    args: [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    logFile: join(dir, 'alertmanager.log'),
    ready: async () => (await fetch(`${url}/-/ready`)).ok,
    timeoutMs: 30_000,
  });
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  // A start that fails has already killed the process; only its folder is left.
  await proc.start().catch((error: unknown) => {
    removeDir();
    throw error;
  });
  return {
    url,
    pid: () => proc.pid,
    async postAlerts(alerts) {
      const answer = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
      if (!answer.ok) throw new Error(`Alertmanager refused the alerts: ${answer.status} ${await answer.text()}`);
    },
    stop: async () => {
      await proc.stop();
      removeDir();
    },
  };
}
