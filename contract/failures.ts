// The failure-code catalog: every code an action fails with (the Temporal failure type `retry.non_retryable` matches), its default retry verdict and meaning, and the older names each replaces.

export interface FailureKind {
  /** The verdict an action gives unless it knows better for the case at hand. */
  retryable: boolean;
  /** One line: what happened, as a person reading a failed run needs it. */
  meaning: string;
}

/** The closed set of failure codes; `rebound validate` refuses any other name in `non_retryable`. */
export const FAILURE_CODES = {
  auth_failed: { retryable: false, meaning: 'the backend refused the credentials, or they lack the permission the step needs' },
  unreachable: { retryable: true, meaning: 'the backend could not be reached, did not answer, or answered that it is unavailable' },
  backend_error: { retryable: true, meaning: 'the backend, or the tool run against it, failed in a way no other code names' },
  timeout: { retryable: true, meaning: 'what the step waits for did not happen within its time (a rollout, a snapshot, a change converging)' },
  not_found: { retryable: false, meaning: 'something the step names or selects does not exist (a zone, a resource, a restore point, a match)' },
  conflict: { retryable: false, meaning: 'the target is not in the state the step expects (expect_current, already exists, in use, not ready)' },
  invalid_input: { retryable: false, meaning: "the step's with: is malformed, incomplete or ambiguous for what it found, or names the wrong kind of thing" },
  rejected: { retryable: false, meaning: 'the backend refused the request as it was made' },
  unsupported: { retryable: false, meaning: 'this action cannot do that here: the backend, storage, kind or worker lacks a feature or a tool' },
  check_failed: { retryable: true, meaning: 'a check of the live system did not pass (a status, a body, a read-back, replica lag)' },
  verification_failed: { retryable: false, meaning: 'a restore point, or what was restored from it, is not what its manifest says' },
  storage_full: { retryable: true, meaning: 'the storage holding restore points has no room left' },
  untrusted: { retryable: false, meaning: 'the worker refused: an unsigned plan or restore point, or a secret bound for a host it may not go to' },
  secret_unavailable: { retryable: false, meaning: 'a secret the step needs cannot be read on this worker' },
  cancelled: { retryable: false, meaning: 'the step was cancelled while it ran' },
  unexpected: { retryable: true, meaning: 'an error the action did not anticipate (report it: it deserves a code)' },
} as const satisfies Record<string, FailureKind>;

export type FailureCode = keyof typeof FAILURE_CODES;

/** Codes actions raised before the catalog, by the code that now stands for each. */
const REPLACED: Record<FailureCode, readonly string[]> = {
  auth_failed: ['authentication_failed', 'unauthorized', 'forbidden', 'denied', 'permission_denied'],
  unreachable: ['unavailable', 'unverifiable'],
  backend_error: [
    'server_error',
    'api_error',
    'etcd_error',
    'mongodb_error',
    'redis_error',
    's3_error',
    'storage_error',
    'tool_failed',
    'snapshot_failed',
    'volume_failed',
    'snapshot_truncated',
    'not_an_rdb',
    'unexpected_answer',
    'delete_refused',
    'external_not_deleted',
    'incomplete_definitions',
  ],
  timeout: ['wait_timeout', 'rollout_timeout', 'pvc_timeout', 'snapshot_timeout', 'scratch_timeout', 'not_converged', 'crd_not_established', 'still_deleting'],
  not_found: [
    'zone_not_found',
    'no_such_vhost',
    'no_repository',
    'snapshot_missing',
    'no_indices',
    'nothing_to_dump',
    'not_in_point',
    'not_in_region',
    'no_restore_point',
    'unknown_kind',
    'unknown_context',
  ],
  conflict: ['cname_conflict', 'data_dir_exists', 'index_exists', 'pvc_exists', 'snapshot_replaced', 'attached_elsewhere', 'pvc_not_bound'],
  invalid_input: [
    'invalid_connection',
    'invalid_kubeconfig',
    'ambiguous_zone',
    'ambiguous_kind',
    'zone_mismatch',
    'attach_one',
    'auth_required',
    'no_scratch',
    'no_cluster',
    'other_cluster',
    'not_management_api',
    'bad_policy',
    'wrong_kind',
    'invalid_restore_point',
    'unsafe_storage',
  ],
  rejected: ['refused', 'invalid', 'bad_repository'],
  unsupported: [
    'no_simulation',
    'unsupported_kind',
    'unsupported_storage',
    'snapshot_unsupported',
    'object_lock_unavailable',
    'not_forwarding',
    'tool_missing',
  ],
  check_failed: ['unexpected_status', 'unexpected_body', 'readback_mismatch', 'import_incomplete', 'replica_lag', 'job_failed'],
  verification_failed: ['corrupt_restore_point', 'too_few_keys', 'missing_keys', 'count_mismatch', 'scratch_failed'],
  storage_full: [],
  untrusted: ['untrusted_plan', 'untrusted_restore_point', 'secret_host_refused'],
  secret_unavailable: [],
  cancelled: [],
  unexpected: [],
};

/**
 * Error types of Elasticsearch/OpenSearch that the search actions used as codes for a refused
 * request; any other `*_exception` was `rejected` too.
 */
export const SEARCH_ERROR_TYPES: Readonly<Record<string, FailureCode>> = {
  index_not_found_exception: 'not_found',
  repository_missing_exception: 'not_found',
  snapshot_missing_exception: 'not_found',
  resource_already_exists_exception: 'conflict',
  invalid_snapshot_name_exception: 'conflict',
  concurrent_snapshot_execution_exception: 'conflict',
  security_exception: 'auth_failed',
};

const LEGACY = new Map(Object.entries(REPLACED).flatMap(([code, old]) => old.map((name) => [name, code as FailureCode] as const)));

export const isFailureCode = (name: string): name is FailureCode => Object.hasOwn(FAILURE_CODES, name);

/** The search actions' code for an error type the cluster answered with. */
export const searchFailureCode = (type: string): FailureCode => SEARCH_ERROR_TYPES[type] ?? 'rejected';

/** The catalog code an older name now stands as; undefined for a current code or an unknown name. */
export function replacementOf(name: string): FailureCode | undefined {
  if (isFailureCode(name)) return undefined;
  return LEGACY.get(name) ?? (/^[a-z][a-z0-9_]*_exception$/.test(name) ? searchFailureCode(name) : undefined);
}

/** The older names a code replaces, for the catalog's page. */
export const replacedBy = (code: FailureCode): readonly string[] => REPLACED[code];

/**
 * What a step's `non_retryable` must list for Temporal to match: each name as written and,
 * for an older name, the code that now stands for it (so a runbook written before the
 * catalog stops retrying as it did, whichever worker version failed).
 */
export function nonRetryableTypes(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    for (const type of [name, replacementOf(name)]) if (type !== undefined && !out.includes(type)) out.push(type);
  }
  return out;
}
