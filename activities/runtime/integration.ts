// An integration's implementation: its contract, an implementation of each of its actions (lazy where the client is heavy), and each kind's restorer and prune hook.
import type { IntegrationSpec, KindSpec } from '../../contract/integration.ts';
import type { PruneHook } from '../restore-points/actions.ts';
import type { TestRestore } from '../restore-points/verify.ts';
import type { ActionImpl } from './wrap.ts';

/** What the restore-point domain does with one kind of point: backup.verify test-restores it; prune deletes what it keeps outside storage, first. */
export interface KindImpl {
  testRestore: TestRestore;
  prune?: PruneHook;
}

/** What activities/<name>/index.ts exports, as `integration`. */
export interface Integration {
  spec: IntegrationSpec;
  /** One per action of the spec, each `{ spec }` the spec's own (activities/registry.test.ts checks). */
  actions: readonly ActionImpl[];
  kinds: Readonly<Record<string, KindImpl>>;
}

/** An implementation for the integration `spec`: one KindImpl for every kind the spec declares, by the same name. */
export function defineIntegration<K extends Record<string, KindSpec>>(
  spec: IntegrationSpec<K>,
  impl: { actions: readonly ActionImpl[] } & (keyof K extends never ? { kinds?: undefined } : { kinds: { readonly [N in keyof K]: KindImpl } }),
): Integration {
  return { spec, actions: impl.actions, kinds: impl.kinds ?? {} };
}
