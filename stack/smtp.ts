// A real SMTP server for tests (PyPI `aiosmtpd`): plain, STARTTLS or implicit TLS on loopback, optional AUTH, refused recipients, every accepted message kept.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect as connectTcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.ts';
import { ServerProcess } from './process.ts';
import { TOOLS } from './tools.ts';

/** Pinned: `pip index versions aiosmtpd` listed 1.4.6 as the newest release on 2026-12-06. */
export const AIOSMTPD_VERSION = '1.4.6';

/** The server's Python side: aiosmtpd's SMTP class with a handler that writes each message to a JSON-lines file. */
const SERVER_SCRIPT = fileURLToPath(new URL('./smtp-server.py', import.meta.url));

/** The folder holding aiosmtpd and its dependencies, installed once with pip --target (cached after). */
export function ensureSmtp(log: (line: string) => void = () => {}): string {
  const target = join(TOOLS, `aiosmtpd-${AIOSMTPD_VERSION}`);
  if (existsSync(join(target, 'aiosmtpd', '__init__.py'))) return target;
  mkdirSync(TOOLS, { recursive: true });
  log(`installing aiosmtpd==${AIOSMTPD_VERSION} from PyPI into ${target} (first run only)`);
  // Beside the target, then renamed: two test workers installing at once, or an interrupted
  // install, never leave a half-filled folder that looks complete.
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const pip = spawnSync(
    'python3',
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-warn-script-location', '--target', partial, `aiosmtpd==${AIOSMTPD_VERSION}`],
    { encoding: 'utf8', env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
  );
  if (pip.status !== 0 || !existsSync(join(partial, 'aiosmtpd', '__init__.py'))) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(
      `cannot install aiosmtpd==${AIOSMTPD_VERSION} with pip (exit ${pip.status}): ${(pip.stderr || String(pip.error ?? '')).trim().slice(-2000)}`,
    );
  }
  try {
    renameSync(partial, target);
  } catch {
    // Another process finished first; its copy is as good as ours.
    rmSync(partial, { recursive: true, force: true });
  }
  return target;
}

export interface SmtpOptions {
  /** `none`: plain only; `starttls`: plain, then STARTTLS, required before AUTH or MAIL; `implicit`: SMTPS, TLS from the first byte. */
  tls: 'none' | 'starttls' | 'implicit';
  /** When given, AUTH PLAIN or LOGIN with these is required before MAIL; wrong credentials answer 535. */
  auth?: { user: string; password: string };
  /** Recipients answered 550 at RCPT TO (compared case-insensitively); the others are accepted. */
  refuse?: string[];
  /** Told about a first-run install of aiosmtpd. */
  log?: (line: string) => void;
}

/** One accepted message, as the server saw it. */
export interface ReceivedMail {
  mail_from: string;
  /** The accepted recipients only: refused ones never reach the envelope. */
  rcpt_tos: string[];
  /** The raw RFC 5322 message (headers and body, CRLF line ends) as the client sent it. */
  data: string;
  /** The client's address, `127.0.0.1:port`. */
  peer: string;
  /** Whether the session was TLS (after STARTTLS, or implicit). */
  tls: boolean;
  /** The name the client logged in with, null without AUTH. */
  auth_user: string | null;
}

export interface SmtpServer {
  /** Always 127.0.0.1; the certificate names it (IP SAN) as well as `localhost`, so either verifies. */
  host: '127.0.0.1';
  port: number;
  /** The self-signed certificate (PEM; it is its own CA) a client must trust for TLS. Made in every mode, offered only with TLS. */
  caFile: string;
  pid: number;
  /** Every message accepted so far, in order. */
  messages(): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

/**
 * A self-signed certificate for `localhost` with DNS and IP names, valid for two days (a server
 * lives as long as one test file). Made with openssl as stack/minio.ts does.
 */
function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl could not make the SMTP server's certificate: ${made.stderr || String(made.error ?? '')}`);
  return { cert, key };
}

/** Whether the server greets with a 220 banner (over TLS for implicit TLS, trusting only its own certificate). */
function greets(port: number, ca: Buffer | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = ca ? connectTls({ host: '127.0.0.1', port, ca, servername: 'localhost' }) : connectTcp({ host: '127.0.0.1', port });
    let banner = '';
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      // Leave politely when it answered (it replies 221 and closes); otherwise just drop the connection.
      if (ok) socket.end('QUIT\r\n');
      else socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => {
      settle(false);
      socket.destroy();
    });
    socket.on('error', () => settle(false));
    socket.on('data', (chunk: Buffer) => {
      banner += chunk.toString('latin1');
      if (banner.includes('\n')) settle(banner.startsWith('220'));
    });
  });
}

/** The messages file's complete lines (a line is written whole before its 250, so a partial one is still being written). */
async function readMailbox(file: string): Promise<ReceivedMail[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []; // nothing accepted yet
    throw error;
  }
  const lines = text.split('\n');
  lines.pop(); // after the last newline: empty, or a line not yet finished
  return lines.map((line) => JSON.parse(line) as ReceivedMail);
}

/** One aiosmtpd server on a free loopback port, in a private temp folder removed on stop. */
export async function startSmtp(options: SmtpOptions): Promise<SmtpServer> {
  const target = ensureSmtp(options.log);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rebound-smtp-'));
  try {
    const { cert, key } = selfSignedCertificate(dir);
    const mailbox = join(dir, 'messages.jsonl');
    const config = join(dir, 'config.json');
    // A file, not arguments: the password stays out of the process list (the folder is 0700 from mkdtemp).
    writeFileSync(config, JSON.stringify({ port, tls: options.tls, cert, key, auth: options.auth ?? null, refuse: options.refuse ?? [], mailbox }), {
      mode: 0o600,
    });
    const ca = options.tls === 'implicit' ? readFileSync(cert) : undefined;
    const proc = new ServerProcess({
      name: `aiosmtpd on port ${port} (tls ${options.tls})`,
      command: 'python3',
      args: ['-u', SERVER_SCRIPT, config],
      logFile: join(dir, 'smtp.log'),
      env: { ...process.env, PYTHONPATH: target, PYTHONDONTWRITEBYTECODE: '1' },
      ready: () => greets(port, ca),
      timeoutMs: 30_000,
      intervalMs: 100,
      // A client still connected keeps no server alive past this.
      killAfterMs: 5_000,
    });
    await proc.start();
    return {
      host: '127.0.0.1',
      port: port,
      caFile: cert,
      pid: proc.pid!,
      messages: () => readMailbox(mailbox),
      stop: async () => {
        await proc.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
