// Connecting to the mTLS cluster as an operator would, through Temporal's standard variables: what works, and the error for each way a client's TLS settings are wrong.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLIENT_AUTH, makeCa, signedCert } from '../../stack/openssl.ts';
import { rebound } from '../helpers/cli.ts';
import { startServeProcess } from '../helpers/serve-process.ts';

const certs = inject('temporalCluster')!.certs;
const stranger = mkdtempSync(join(tmpdir(), 'rebound-stranger-'));
beforeAll(() => {
  // Another CA and a client certificate it signed: what a client of some other cluster holds.
  makeCa(stranger, 'someone-else');
  signedCert(stranger, 'client', '/CN=intruder', CLIENT_AUTH);
});
afterAll(() => rmSync(stranger, { recursive: true, force: true }));

/** `rebound list` with these variables changed ('' unsets one: an empty variable means unset). */
const list = (env: Record<string, string>) => rebound(['list'], env);

// Concurrent: each refused connection waits out the SDK's 10 s connect deadline before the probe says why.
describe.concurrent('rebound on a cluster that requires client certificates', () => {
  it('connects with TEMPORAL_ADDRESS and the TEMPORAL_TLS_* variables alone', async () => {
    const ok = await list({});
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(process.env.TEMPORAL_TLS_CLIENT_CERT_PATH).toBe(join(certs, 'client.crt'));
  });

  it('without a client certificate: says the server requires one and which variables to set', async () => {
    const out = await list({ TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '' });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain(`cannot connect to Temporal at ${inject('temporalAddress')}: the server requires a client certificate and none is configured`);
    expect(out.stderr).toContain('set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH');
  });

  it('with a client certificate of a CA the server does not trust: says it was refused', async () => {
    const out = await list({ TEMPORAL_TLS_CLIENT_CERT_PATH: join(stranger, 'client.crt'), TEMPORAL_TLS_CLIENT_KEY_PATH: join(stranger, 'client.key') });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('the server refused the client certificate');
  });

  it('with the wrong CA for the server: says its certificate is not trusted and names TEMPORAL_TLS_SERVER_CA_CERT_PATH', async () => {
    const out = await list({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(stranger, 'ca.crt') });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain("the server's certificate is not trusted");
    expect(out.stderr).toContain('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
  });

  it('without TLS at all: says the server requires TLS', async () => {
    const out = await list({
      TEMPORAL_TLS_CLIENT_CERT_PATH: '',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: '',
      TEMPORAL_TLS_SERVER_NAME: '',
    });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('requires TLS and the client is not using it: set TEMPORAL_TLS=true');
  });

  it('a worker without a client certificate exits at once with the same advice', async () => {
    const out = await rebound(['worker', '--site', 'nobody'], { TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '' });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('the server requires a client certificate and none is configured');
  });
});

describe('rebound serve on the cluster with a client certificate missing', () => {
  it('starts (its connection is lazy) and logs once why Temporal cannot be reached', async () => {
    const runbooks = mkdtempSync(join(tmpdir(), 'rebound-serve-tls-'));
    const serve = await startServeProcess({
      address: inject('temporalAddress'),
      site: 'tls',
      runbooks,
      env: { REBOUND_SERVE_TOKEN: 'tls-test-token-0123456789abcdef0123', TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '' },
    });
    try {
      await serve.waitFor('cannot connect to Temporal');
      expect(serve.output()).toContain('the server requires a client certificate and none is configured');
    } finally {
      await serve.kill();
      rmSync(runbooks, { recursive: true, force: true });
    }
  });
});
