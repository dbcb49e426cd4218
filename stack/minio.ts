// MinIO for tests and the demo: built once with go install at a pinned version, started on loopback with random credentials.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
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
  /** With `tls`: the self-signed certificate clients must trust (it is its own CA). */
  caFile?: string;
  stop(): Promise<void>;
}

/**
 * A self-signed certificate for `localhost` (DNS and IP names) in MinIO's certs folder:
 * pgBackRest checks an S3 endpoint's certificate by DNS name only, so the endpoint is `localhost`.
 */
function selfSignedCertificate(certs: string): string {
  mkdirSync(certs, { recursive: true });
  const crt = join(certs, 'public.crt');
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost'];
  const made = spawnSync('openssl', [...args, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(certs, 'private.key'), '-out', crt], {
    encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(`openssl could not make MinIO's certificate: ${made.stderr}`);
  return crt;
}

/** MinIO's readiness over TLS, trusting only its own certificate. */
function readyOverTls(port: number, ca: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', servername: 'localhost', port, path: '/minio/health/ready', ca }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function startMinio(options: { dir?: string; tls?: boolean; log?: (line: string) => void } = {}): Promise<MinioServer> {
  const binary = ensureMinio(options.log);
  const dir = options.dir ?? join(DATA, `minio-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(join(dir, 'data'), { recursive: true });
  const [port, consolePort] = await freePorts(2);
  const accessKey = `rebound${randomBytes(4).toString('hex')}`;
  const secretKey = randomBytes(16).toString('hex');
  const caFile = options.tls ? selfSignedCertificate(join(dir, 'certs')) : undefined;
  const endpoint = caFile ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
  const ca = caFile ? readFileSync(caFile) : undefined;
  const proc = new ServerProcess({
    name: 'MinIO',
    command: binary,
    args: [
      'server',
      join(dir, 'data'),
      '--address',
      `127.0.0.1:${port}`,
      '--console-address',
      `127.0.0.1:${consolePort}`,
      '--quiet',
      ...(caFile ? ['--certs-dir', join(dir, 'certs')] : []),
    ],
    logFile: join(dir, 'minio.log'),
    env: { ...process.env, MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off' },
    ready: async () => (ca ? readyOverTls(port!, ca) : (await fetch(`${endpoint}/minio/health/ready`)).ok),
    intervalMs: 200,
  });
  await proc.start();
  return {
    endpoint,
    accessKey,
    secretKey,
    ...(caFile ? { caFile } : {}),
    stop: () => proc.stop(),
  };
}
