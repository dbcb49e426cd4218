// The test cluster's own certificates (a CA, the apiserver's serving cert, an admin client cert) and service-account keys, made with openssl.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClusterCerts {
  ca: string;
  caKey: string;
  serving: string;
  servingKey: string;
  admin: string;
  adminKey: string;
  saPublic: string;
  saPrivate: string;
}

function openssl(args: string[], cwd: string): void {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${(result.stderr || String(result.error ?? '')).trim()}`);
}

/** A key and a certificate signed by the CA; `extensions` is an openssl extension section's lines. */
function signed(dir: string, name: string, subject: string, extensions: string): void {
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
      'ca.crt',
      '-CAkey',
      'ca.key',
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

/** Certificates valid for two days: a cluster lives as long as one test run. */
export function makeCerts(dir: string): ClusterCerts {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=rebound-test-ca'], dir);
  signed(
    dir,
    'apiserver',
    '/CN=kube-apiserver',
    'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\n',
  );
  signed(dir, 'admin', '/O=system:masters/CN=rebound-admin', 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  const at = (f: string) => join(dir, f);
  return {
    ca: at('ca.crt'),
    caKey: at('ca.key'),
    serving: at('apiserver.crt'),
    servingKey: at('apiserver.key'),
    admin: at('admin.crt'),
    adminKey: at('admin.key'),
    saPublic: at('sa.pub'),
    saPrivate: at('sa.key'),
  };
}

/** A kubeconfig with the credentials embedded, as operators usually hand one over. */
export function kubeconfig(server: string, certs: ClusterCerts, user: { name: string; token?: string; cert?: string; key?: string }): string {
  const b64 = (file: string) => readFileSync(file).toString('base64');
  const credentials = user.token ? `    token: ${user.token}\n` : `    client-certificate-data: ${b64(user.cert!)}\n    client-key-data: ${b64(user.key!)}\n`;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: rebound-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(certs.ca)}`,
    'users:',
    `- name: ${user.name}`,
    '  user:',
    credentials.trimEnd(),
    'contexts:',
    `- name: ${user.name}@rebound-test`,
    '  context:',
    '    cluster: rebound-test',
    `    user: ${user.name}`,
    `current-context: ${user.name}@rebound-test`,
    '',
  ].join('\n');
}
