// Connecting to a Kubernetes cluster with the official client: kubeconfig from a secret or in-cluster, credentials masked, failures classified.
import { existsSync, readFileSync } from 'node:fs';
import { ApiException, AppsV1Api, AuthorizationV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { ClusterInput } from '../../contract/kubernetes.ts';
import { ActionError } from '../runtime/errors.ts';
import type { ActionContext } from '../runtime/wrap.ts';

export interface Cluster {
  kc: KubeConfig;
  /** Where it is, without credentials: for messages and manifests. */
  server: string;
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  auth: AuthorizationV1Api;
  custom: CustomObjectsApi;
  objects: KubernetesObjectApi;
}

/** Every credential a kubeconfig can carry, so that none of them can reach a message or the history. */
function concealCredentials(kc: KubeConfig, ctx: ActionContext): void {
  for (const user of kc.getUsers()) {
    for (const value of [user.token, user.password, user.keyData, user.certData, user.authProvider?.config?.['access-token']]) {
      if (typeof value === 'string' && value) {
        ctx.conceal(value);
        // Embedded keys and certificates also appear decoded (PEM) in TLS errors.
        if (value === user.keyData || value === user.certData) ctx.conceal(Buffer.from(value, 'base64').toString('utf8').trim());
      }
    }
  }
}

function loadKubeconfig(input: ClusterInput, ctx: ActionContext): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (input.in_cluster) kc.loadFromCluster();
    else {
      const text = input.kubeconfig!;
      // A one-line value that names an existing file is a path; anything else is the kubeconfig itself.
      if (!text.includes('\n') && existsSync(text)) kc.loadFromString(readFileSync(text, 'utf8'));
      else kc.loadFromString(text);
    }
  } catch (error) {
    throw new ActionError(
      'invalid_input',
      `cannot read the kubeconfig: ${ctx.mask(error instanceof Error ? error.message : String(error))}; give its contents or a readable file path in the secret`,
      { retryable: false },
    );
  }
  concealCredentials(kc, ctx);
  if (input.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(input.context))
      throw new ActionError('not_found', `the kubeconfig has no context "${input.context}"; it has: ${names.join(', ') || 'none'}`, { retryable: false });
    kc.setCurrentContext(input.context);
  }
  if (!kc.getCurrentCluster()) throw new ActionError('invalid_input', 'the kubeconfig names no current cluster; set cluster.context', { retryable: false });
  return kc;
}

export function connect(input: ClusterInput, ctx: ActionContext): Cluster {
  const kc = loadKubeconfig(input, ctx);
  return {
    kc,
    server: kc.getCurrentCluster()!.server,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    auth: kc.makeApiClient(AuthorizationV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    objects: KubernetesObjectApi.makeApiClient(kc),
  };
}

/** The API server's own reason, from a Status body, when it sent one. */
function statusMessage(error: ApiException<unknown>): string {
  let body = error.body as unknown;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return (body as string).slice(0, 500);
    }
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : `HTTP ${error.code}`;
}

export const isNotFound = (error: unknown): boolean => error instanceof ApiException && error.code === 404;
export const isConflict = (error: unknown): boolean => error instanceof ApiException && error.code === 409;

/**
 * An API failure as a person reads it: what we were doing, the server's reason, and whether
 * a retry can help. 401/403/404/422 cannot be fixed by retrying; 409/429/5xx and network errors can.
 */
export function k8sFailure(error: unknown, doing: string, ctx: ActionContext): ActionError {
  if (error instanceof ActionError) return error;
  if (error instanceof ApiException) {
    const reason = ctx.mask(statusMessage(error));
    if (error.code === 401)
      return new ActionError('auth_failed', `${doing}: the API server rejected the credentials (401: ${reason}); check the kubeconfig's token or certificate`, {
        retryable: false,
      });
    if (error.code === 403)
      return new ActionError('auth_failed', `${doing}: forbidden (403): ${reason}; grant the role this needs, or use other credentials`, { retryable: false });
    if (error.code === 404) return new ActionError('not_found', `${doing}: not found (404): ${reason}`, { retryable: false });
    if (error.code === 422 || error.code === 400) return new ActionError('rejected', `${doing}: rejected (${error.code}): ${reason}`, { retryable: false });
    return new ActionError('backend_error', `${doing}: HTTP ${error.code}: ${reason}`, { retryable: true });
  }
  const message = ctx.mask(error instanceof Error ? error.message : String(error));
  return new ActionError('unreachable', `${doing}: ${message}`, { retryable: true });
}

/** Sleeps between polls; a cancelled activity stops waiting at once. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
