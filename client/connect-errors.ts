// Why a connection to Temporal failed, said with the variable to set: a TLS probe of the address when the SDK only says "failed to connect before the deadline".
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

/** The TLS part of the SDK's connection options, as @temporalio/envconfig builds it. */
export interface TlsSettings {
  serverNameOverride?: string;
  serverRootCACertificate?: Uint8Array;
  clientCertPair?: { crt: Uint8Array; key: Uint8Array };
}

export interface ConnectSettings {
  address?: string;
  tls?: TlsSettings | boolean | null;
}

const CLIENT_CERT =
  'set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or a profile in TEMPORAL_CONFIG_FILE) to a client certificate the server trusts';
const SERVER_CA = "set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA that signed the server's certificate";
const VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

type Probe = { ok: true; authorized: boolean; alert?: undefined } | { ok: false; code: string; message: string };

function hostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1)) };
}

/** Can anything be reached there at all? */
function reachable(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port, timeout: 3000 }, () => (socket.destroy(), resolve(undefined)));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    socket.once('timeout', () => (socket.destroy(), resolve('ETIMEDOUT')));
  });
}

/**
 * A TLS handshake as the SDK would make it, then a moment's wait: in TLS 1.3 a server that
 * refuses the client's certificate says so with an alert after the client thinks it is done.
 */
function probe(host: string, port: number, options: ConnectionOptions): Promise<Probe> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, ALPNProtocols: ['h2'], timeout: 3000, ...options });
    let settled = false;
    const done = (result: Probe) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(result);
    };
    socket.once('secureConnect', () => setTimeout(() => done({ ok: true, authorized: socket.authorized }), 300));
    socket.once('error', (error: NodeJS.ErrnoException) => done({ ok: false, code: error.code ?? '', message: error.message }));
    socket.once('timeout', () => done({ ok: false, code: 'ETIMEDOUT', message: 'no TLS answer within 3 s' }));
  });
}

function tlsOptions(tls: TlsSettings, host: string): ConnectionOptions {
  return {
    servername: tls.serverNameOverride ?? (/^[\d.]+$|:/.test(host) ? undefined : host),
    ...(tls.serverRootCACertificate ? { ca: Buffer.from(tls.serverRootCACertificate) } : {}),
    ...(tls.clientCertPair ? { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) } : {}),
    rejectUnauthorized: true,
  };
}

/** What went wrong when the client speaks TLS, or undefined when the probe finds nothing wrong. */
function tlsFault(result: Probe, tls: TlsSettings): string | undefined {
  if (result.ok) return undefined;
  const { code, message } = result;
  if (/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE/.test(code) && !tls.clientCertPair)
    return `the server requires a client certificate and none is configured: ${CLIENT_CERT}`;
  if (/ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|DECRYPT_ERROR|CERTIFICATE_REQUIRED)/.test(code))
    return `the server refused the client certificate (${message.trim()}): ${CLIENT_CERT}`;
  if (VERIFY_CODES.has(code)) return `the server's certificate is not trusted (${code}): ${SERVER_CA}`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `the server's certificate does not name this host (${message}): set TEMPORAL_TLS_SERVER_NAME to a name it holds`;
  if (code === 'CERT_HAS_EXPIRED') return "the server's certificate has expired";
  if (/WRONG_VERSION_NUMBER|ECONNRESET|PACKET_LENGTH_TOO_LONG/.test(code) || /socket disconnected/.test(message))
    return 'the server does not speak TLS there: unset TEMPORAL_TLS and the TEMPORAL_TLS_* variables, or give the address of its TLS port';
  return undefined;
}

/** A sentence on why `settings` cannot reach the server, or undefined when the probe cannot tell. */
export async function diagnoseConnection(settings: ConnectSettings): Promise<string | undefined> {
  const address = settings.address ?? '127.0.0.1:7233';
  const { host, port } = hostPort(address);
  const unreachable = await reachable(host, port);
  if (unreachable) return `nothing answers at ${address} (${unreachable}): is TEMPORAL_ADDRESS right, and is the server up?`;
  const tls = settings.tls === true ? {} : settings.tls || undefined;
  if (tls) return tlsFault(await probe(host, port, tlsOptions(tls, host)), tls);
  // Plain text configured: does the server answer a TLS handshake?
  const answer = await probe(host, port, { rejectUnauthorized: false });
  const speaksTls = answer.ok || /ALERT/.test(answer.code);
  if (!speaksTls) return undefined;
  return `the server at ${address} requires TLS and the client is not using it: set TEMPORAL_TLS=true and ${SERVER_CA}${answer.ok ? '' : `; it also asks for a client certificate: ${CLIENT_CERT}`}`;
}

/** Connects with `connect`, or throws an error that says what failed at which address and what to set. */
export async function connectExplained<T, O>(connect: (options: O) => Promise<T>, options: O): Promise<T> {
  try {
    return await connect(options);
  } catch (error) {
    const settings = options as ConnectSettings;
    const reason = await diagnoseConnection(settings).catch(() => undefined);
    const original = error instanceof Error ? error.message : String(error);
    throw new Error(
      `cannot connect to Temporal at ${settings.address ?? '127.0.0.1:7233'}: ${reason ?? original}${reason ? ` (the SDK said: ${original})` : ''}`,
      {
        cause: error,
      },
    );
  }
}
