// Integrations whose client libraries weigh tens of MB (Kubernetes, EC2, Route 53, ELBv2) load on the first step that uses them, not when every worker starts.
import type { ActionSpec } from '../../contract/action.ts';
import type { ActionImpl } from './wrap.ts';

export interface LazyImpl<S extends ActionSpec = ActionSpec> extends ActionImpl<S> {
  /** The real implementation (loaded once); the registry test compares what it can do with what the wrapper declares. */
  load(): Promise<ActionImpl<S>>;
}

/**
 * `simulate` must be declared here, before loading: the runtime picks run or simulate (or
 * the "cannot be simulated" failure) from whether the implementation has one.
 */
export function lazyImpl<S extends ActionSpec>(spec: S, load: () => Promise<ActionImpl<S>>, options: { simulate?: boolean } = {}): LazyImpl<S> {
  let loaded: Promise<ActionImpl<S>> | undefined;
  const get = () => (loaded ??= load());
  const impl: LazyImpl<S> = { spec, load: get, run: async (input, ctx) => (await get()).run(input, ctx) };
  if (options.simulate) {
    impl.simulate = async (input, ctx) => {
      const real = await get();
      return real.simulate!(input, ctx);
    };
  }
  return impl;
}

/** The same for a function (a restore-point hook): the module is imported on its first call. */
export function lazyFunction<A extends unknown[], R>(load: () => Promise<(...args: A) => Promise<R>>): (...args: A) => Promise<R> {
  let loaded: Promise<(...args: A) => Promise<R>> | undefined;
  return async (...args) => (await (loaded ??= load()))(...args);
}
