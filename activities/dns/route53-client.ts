// The Route 53 client dns.switch and route53.health_check share: built from the `route53` block, every call's SDK error mapped to a failure code.
import { Route53Client } from '@aws-sdk/client-route-53';
import { ActionError } from '../runtime/errors.ts';
import { networkReason } from './records.ts';

export interface Route53Config {
  hosted_zone_id?: string;
  endpoint?: string;
  region: string;
  access_key?: string;
  secret_key?: string;
}

const UNAUTHORIZED = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'ExpiredToken',
  'InvalidSignatureException',
  'CredentialsProviderError',
]);
const TRANSIENT = new Set(['Throttling', 'ThrottlingException', 'PriorRequestNotComplete', 'ServiceUnavailable', 'TimeoutError']);
const NOT_FOUND = new Set(['NoSuchHostedZone', 'NoSuchHealthCheck']);

/** Maps an SDK error: credentials and bad requests will not get better by retrying; throttling and outages may. */
function failure(error: unknown, doing: string): ActionError {
  if (error instanceof ActionError) return error;
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const detail = `${e.name ?? 'Error'}: ${(e.message ?? '').slice(0, 300)}`;
  if (UNAUTHORIZED.has(e.name ?? '') || status === 401 || status === 403) {
    return new ActionError(
      'auth_failed',
      `Route 53 refused the credentials ${doing} (${e.name ?? `HTTP ${status}`}); check the secrets given as route53.access_key / secret_key, or the worker's AWS environment`,
      { retryable: false },
    );
  }
  if (NOT_FOUND.has(e.name ?? '')) return new ActionError('not_found', `${doing}: ${detail}`, { retryable: false });
  // Someone changed the health check between our read and our update (real Route 53 checks HealthCheckVersion).
  if (e.name === 'HealthCheckVersionMismatch')
    return new ActionError('conflict', `${doing}: it changed while the step was changing it (${detail}); left as the other change set it`, {
      retryable: false,
    });
  if (TRANSIENT.has(e.name ?? '') || (status !== undefined && status >= 500) || status === undefined) {
    return new ActionError('unreachable', `Route 53 ${doing}: ${status === undefined ? networkReason(error) : detail}`, { retryable: true });
  }
  return new ActionError('rejected', `Route 53 ${doing}: ${detail}`, { retryable: false });
}

export interface Route53 {
  client: Route53Client;
  /** Runs one SDK call, aborted with the step; its errors become ActionErrors saying what was being done. */
  send<T>(doing: string, request: (options: { abortSignal: AbortSignal }) => Promise<T>): Promise<T>;
}

export function route53Client(config: Route53Config, signal: AbortSignal): Route53 {
  const client = new Route53Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.access_key && config.secret_key ? { credentials: { accessKeyId: config.access_key, secretAccessKey: config.secret_key } } : {}),
  });
  return {
    client,
    async send(doing, request) {
      try {
        return await request({ abortSignal: signal });
      } catch (error) {
        throw failure(error, doing);
      }
    },
  };
}
