// Prepares a Temporal namespace for Rebound (`rebound setup`) and checks that one is ready.
import type { Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import proto from '@temporalio/proto';

const { temporal } = proto;
import { SEARCH_ATTRIBUTES } from '../contract/run.ts';

type AnyConnection = Pick<Connection | NativeConnection, 'operatorService' | 'workflowService'>;

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

/** What a namespace lacks, said so that a person knows which command fixes it. */
export class NamespaceNotReadyError extends Error {
  readonly code = 'namespace_not_ready';
  constructor(
    readonly namespace: string,
    readonly missing: string[],
  ) {
    super(
      `Temporal namespace "${namespace}" lacks Rebound's search attributes ${missing.join(', ')}; register them once with: rebound setup --namespace ${namespace}`,
    );
    this.name = 'NamespaceNotReadyError';
  }
}

export class NamespaceMissingError extends Error {
  readonly code = 'namespace_missing';
  constructor(readonly namespace: string) {
    super(
      `Temporal namespace "${namespace}" does not exist; create it first (temporal operator namespace create --namespace ${namespace}), then run rebound setup --namespace ${namespace}`,
    );
    this.name = 'NamespaceMissingError';
  }
}

async function ensureNamespace(connection: AnyConnection, namespace: string): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (error) {
    if ((error as { code?: number }).code === 5) throw new NamespaceMissingError(namespace);
    throw error;
  }
}

/** The search attributes Rebound needs that `namespace` does not have. */
export async function missingSearchAttributes(connection: AnyConnection, namespace: string): Promise<string[]> {
  await ensureNamespace(connection, namespace);
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  return Object.keys(SEARCH_ATTRIBUTES).filter((name) => !customAttributes?.[name]);
}

/** Registers what is missing; running it again changes nothing. */
export async function setupNamespace(connection: AnyConnection, namespace: string): Promise<{ registered: string[]; present: string[] }> {
  const missing = await missingSearchAttributes(connection, namespace);
  if (missing.length) {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])) });
  }
  return { registered: missing, present: Object.keys(SEARCH_ATTRIBUTES).filter((n) => !missing.includes(n)) };
}

/** Fails with the command that fixes it when the namespace is not ready for runs. */
export async function assertNamespaceReady(connection: AnyConnection, namespace: string): Promise<void> {
  const missing = await missingSearchAttributes(connection, namespace);
  if (missing.length) throw new NamespaceNotReadyError(namespace, missing);
}
