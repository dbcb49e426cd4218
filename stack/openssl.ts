// Test certificates made with openssl: a short-lived CA and keys with certificates it signs, for the Kubernetes and Temporal test clusters.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function openssl(args: string[], cwd: string): void {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${(result.stderr || String(result.error ?? '')).trim()}`);
}

/** A self-signed CA valid for two days (a test cluster lives as long as one test run): `<name>.crt` and `<name>.key` in dir. */
export function makeCa(dir: string, commonName: string, name = 'ca'): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${commonName}`], dir);
}

/** A key and a certificate signed by the CA `ca` in dir; `extensions` is an openssl extension section's lines. */
export function signedCert(dir: string, name: string, subject: string, extensions: string, ca = 'ca'): void {
  openssl(['genrsa', '-out', `${name}.key`, '2048'], dir);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
}

export const SERVER_AUTH = (san: string) => `keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`;
export const CLIENT_AUTH = 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';
