// Prometheus from Debian for tests: one server on a loopback port scraping the targets a test names, its TSDB in a private folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall } from './apt.ts';
import { freePort } from './ports.ts';
import { ServerProcess } from './process.ts';

const BINARY = '/usr/bin/prometheus';

/** Debian 12's Prometheus (2.42), installed with apt-get when missing; the package's own service is never used. */
export function ensurePrometheus(log: (line: string) => void = () => {}): string {
  aptInstall('Prometheus', ['prometheus'], () => existsSync(BINARY), log);
  spawnSync('systemctl', ['disable', '--now', 'prometheus.service'], { stdio: 'ignore' });
  return BINARY;
}

export interface PrometheusServer {
  /** The HTTP API's base, `http://127.0.0.1:PORT`. */
  url: string;
  pid(): number | undefined;
  stop(): Promise<void>;
}

/** One job scraping every target; `up` and the targets' own series carry `job="targets"`. */
function configText(targets: string[], scrapeInterval: string): string {
  return `global:
  scrape_interval: ${scrapeInterval}
  evaluation_interval: ${scrapeInterval}
scrape_configs:
  - job_name: targets
    scrape_interval: ${scrapeInterval}
    scrape_timeout: ${scrapeInterval}
    static_configs:
      - targets: ${JSON.stringify(targets)}
`;
}

export async function startPrometheus(options: { targets: string[]; scrapeInterval?: string; log?: (line: string) => void }): Promise<PrometheusServer> {
  const binary = ensurePrometheus(options.log);
  const dir = mkdtempSync(join(tmpdir(), 'rebound-prometheus-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(join(dir, 'prometheus.yml'), configText(options.targets, options.scrapeInterval ?? '1s'));
  const proc = new ServerProcess({
    name: `Prometheus on ${url}`,
    command: binary,
    args: [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    logFile: join(dir, 'prometheus.log'),
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
    stop: async () => {
      await proc.stop();
      removeDir();
    },
  };
}
