// MinIO for tests and the demo: built once with go install at a pinned version, started on loopback with random credentials.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from './ports.ts';
import { ServerProcess } from './process.ts';
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
  const endpoint = `http://127.0.0.1:${port}`;
  const proc = new ServerProcess({
    name: 'MinIO',
    command: binary,
    args: ['server', join(dir, 'data'), '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
    logFile: join(dir, 'minio.log'),
    env: { ...process.env, MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off' },
    ready: async () => (await fetch(`${endpoint}/minio/health/ready`)).ok,
    intervalMs: 200,
  });
  await proc.start();
  return {
    endpoint,
    accessKey,
    secretKey,
    stop: () => proc.stop(),
  };
}
