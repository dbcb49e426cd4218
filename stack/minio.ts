// MinIO for tests and the demo: built once with go install at a pinned version, started on loopback with random credentials.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from './ports.ts';
import { DATA, TOOLS } from './tools.ts';

/** MinIO server, built with `go install` at this pinned module version (no tagged releases are Go-installable). */
export const MINIO_VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';

/** The MinIO binary, built once into .tools/ (a few minutes on two cores; cached after). */
export function ensureMinio(log: (line: string) => void = () => {}): string {
  if (process.env.REBOUND_MINIO_BIN) return process.env.REBOUND_MINIO_BIN;
  const gobin = join(TOOLS, `minio-${MINIO_VERSION}`);
  const binary = join(gobin, 'minio');
  if (existsSync(binary)) return binary;
  log(`building MinIO ${MINIO_VERSION} with go install into ${gobin} (first run only)`);
  const go = spawnSync('go', ['install', `github.com/minio/minio@${MINIO_VERSION}`], {
    encoding: 'utf8',
    env: { ...process.env, GOBIN: gobin, GOFLAGS: '-mod=mod' },
    cwd: TOOLS,
  });
  if (go.status !== 0 || !existsSync(binary)) throw new Error(`cannot build MinIO: ${go.stderr}`);
  return binary;
}

export interface MinioServer {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  stop(): Promise<void>;
}

export async function startMinio(options: { dir?: string; log?: (line: string) => void } = {}): Promise<MinioServer> {
  const binary = ensureMinio(options.log);
  const dir = options.dir ?? join(DATA, `minio-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(join(dir, 'data'), { recursive: true });
  const [port, consolePort] = await freePorts(2);
  const accessKey = `rebound${randomBytes(4).toString('hex')}`;
  const secretKey = randomBytes(16).toString('hex');
  const logFile = join(dir, 'minio.log');
  const out = openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    binary,
    ['server', join(dir, 'data'), '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
    {
      stdio: ['ignore', out, out],
      env: { ...process.env, MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off' },
    },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${endpoint}/minio/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`MinIO did not start: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    accessKey,
    secretKey,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
