// An integration's contract: its actions and the restore-point kinds it writes, each with the backup.verify/prune fields that kind needs.
import type { z } from 'zod';
import type { ActionSpec } from './action.ts';

/** `with:` fields, by name; a field several kinds need is declared by each, with what it means for that kind. */
export type Fields = Record<string, z.ZodType>;

/**
 * A kind of restore point, as backup.verify and restore_points.prune see it: the `with:`
 * fields they need for points of this kind (each field described for this kind only), and
 * which of them carry credentials.
 */
export interface KindSpec {
  verify?: Fields;
  verify_secrets?: readonly string[];
  prune?: Fields;
  prune_secrets?: readonly string[];
}

/** What the compiler knows of an integration: no I/O, safe to import anywhere. */
export interface IntegrationSpec<K extends Record<string, KindSpec> = Record<string, KindSpec>> {
  /** The folder name, activities/<name>/ and contract/actions/<name>.ts. */
  name: string;
  actions: readonly ActionSpec[];
  /** The restore-point kinds its actions write, by the kind the manifest records. */
  kinds: K;
}

export function defineIntegrationSpec<const K extends Record<string, KindSpec> = Record<never, KindSpec>>(spec: {
  name: string;
  actions: readonly ActionSpec[];
  kinds?: K;
}): IntegrationSpec<K> {
  return { name: spec.name, actions: spec.actions, kinds: spec.kinds ?? ({} as K) };
}

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type KindOf<I> = I extends IntegrationSpec<infer K> ? K[keyof K] : never;
/** A kind's fields for one action; never for a kind that declares none. */
type FieldsOf<K, F extends string> = K extends { [P in F]: infer X } ? X : never;
/** Every kind's fields for one action, as one shape (a field two kinds declare appears once). */
export type MergedFields<L extends readonly IntegrationSpec[], F extends 'verify' | 'prune'> =
  UnionToIntersection<FieldsOf<KindOf<L[number]>, F>> extends infer M ? { [N in keyof M]: M[N] } : never;

/**
 * The fields of one action (verify or prune) over every kind, in the order the integrations
 * list them: a field declared by several kinds keeps the first declaration's type, and its
 * description joins what each kind says of it ("PostgreSQL points: …; search points: …").
 */
export function mergeKindFields<L extends readonly IntegrationSpec[], F extends 'verify' | 'prune'>(integrations: L, action: F): MergedFields<L, F> {
  const declared = new Map<string, z.ZodType[]>();
  for (const kind of kindsOf(integrations))
    for (const [name, schema] of Object.entries<z.ZodType>(kind[action] ?? {})) declared.set(name, [...(declared.get(name) ?? []), schema]);
  const merged = [...declared].map(([name, schemas]) => {
    const said = schemas.map((s) => s.description).filter((d): d is string => !!d);
    return [name, said.length ? schemas[0]!.describe(said.join('; ')) : schemas[0]!] as const;
  });
  return Object.fromEntries(merged) as MergedFields<L, F>;
}

/** The credential-bearing fields of one action over every kind, each once. */
export function mergeKindSecrets(integrations: readonly IntegrationSpec[], action: 'verify' | 'prune'): string[] {
  return [...new Set(kindsOf(integrations).flatMap((kind) => kind[`${action}_secrets`] ?? []))];
}

function kindsOf(integrations: readonly IntegrationSpec[]): KindSpec[] {
  return integrations.flatMap((i) => Object.values(i.kinds));
}
