// The test cluster's own certificates (a CA, the apiserver's serving cert, an admin client cert) and service-account keys, made with openssl.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_AUTH, SERVER_AUTH, makeCa, openssl, signedCert } from '../openssl.ts';

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

/** Certificates valid for two days: a cluster lives as long as one test run. */
export function makeCerts(dir: string): ClusterCerts {
  makeCa(dir, 'rebound-test-ca');
  signedCert(dir, 'apiserver', '/CN=kube-apiserver', SERVER_AUTH('IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc'));
  signedCert(dir, 'admin', '/O=system:masters/CN=rebound-admin', CLIENT_AUTH);
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
