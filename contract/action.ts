// The action contract: ActionSpec (name, `with:` and output schemas, impact, backend, secret inputs, drill targets, revert and who reverts, the resource a change lands on) and defineAction.
import type { z } from 'zod';

/**
 * What an action may change. The compiler uses it to decide what a drill does:
 * `read` actions run, `write` actions need drill-safe targets, `production` actions are
 * simulated unless the runbook gives drill-safe overrides.
 */
export type Impact = 'read' | 'write' | 'production';

/** Where an action's work happens: in an activity on a worker, or inside the interpreter. */
export type ActionKind = 'activity' | 'workflow';

/**
 * The contract every action follows (after Kanister's function registry): its name, the
 * zod schema of `with:`, the schema of what it returns, its impact and the backend it talks
 * to. The spec holds no I/O so the compiler and the JSON Schema generator can import it.
 */
export interface ActionSpec<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  name: string;
  summary: string;
  kind: ActionKind;
  /** Human name of what the action talks to, used in failure messages ("http", "postgres"). */
  backend: string;
  impact: Impact;
  input: I;
  output: O;
  /** `with:` fields (dotted paths) that carry credentials: only a secret reference is accepted there. */
  secret_inputs?: string[];
  /**
   * Where secrets go: a secret-bearing `with:` field (or a prefix, `headers`) → the field that
   * is its destination (`url`). A secret sent there goes only to a host the runbook fixed or
   * the secret lists (`hosts:`); `storage.*` → `storage.endpoint` holds for every action.
   */
  secret_destinations?: Record<string, string>;
  /**
   * For write and production actions: the `with:` fields that say where the change lands.
   * Drill overrides must replace at least one of them, or the drill would touch production.
   */
  drill_targets?: string[];
  /**
   * Whether a step's own `with:` (as written, before any expression is evaluated) already keeps
   * a drill off production (a restore in `mode: scratch`): the drill then runs it as written.
   */
  drill_safe?: (input: Record<string, unknown>) => boolean;
  /** Whether the action can report the change it would make without making it. */
  simulates?: boolean;
  /**
   * For production actions: how `rebound failback` undoes what a succeeded step changed,
   * from that step's `with:` (secrets still references) and recorded outputs. Absent: the
   * change cannot be reverted automatically and failback lists it as manual work.
   */
  revert?: Revert;
  /**
   * For changes that leave nothing to undo (a restart: the pods already run the same template
   * again; a traffic shift that rolled back to where it began): why, or undefined. Failback then
   * lists the step as unchanged instead of handing a person an approval for nothing.
   */
  nothing_to_revert?: (input: Record<string, unknown>, outputs: Record<string, unknown>) => string | undefined;
  /**
   * When another action undoes this one's change (a promotion, by `postgres.reprotect` of the old
   * primary on its own host): that action, whose `with:` `revert` builds, and the site whose
   * worker runs it, from this step's `with:` (absent: this step's own site).
   */
  reverted_by?: { uses: string; site?: (input: Record<string, unknown>) => string | undefined };
  /**
   * For write actions that restore into a target that may be live: what this step's `with:`
   * (and outputs, when it succeeded) restored over, for failback's list of manual work — no
   * revert can take restored data back out. Undefined when the input writes only into a
   * scratch target the action creates and throws away.
   */
  restores_over?: (input: Record<string, unknown>, outputs: Record<string, unknown>) => string | undefined;
  /**
   * `with:` fields (top-level) holding a CEL expression the action evaluates itself, on the
   * worker, over names it binds (http.check's `expect`, over the response). The compiler checks
   * it against exactly those names and stores it bare, without `${{ }}`, so the interpreter
   * passes it through untouched (compiler/deferred.ts).
   */
  deferred_expressions?: Record<string, DeferredExpression>;
  /**
   * For production actions: the resource a step's `with:` (secrets still references) changes —
   * whose state its outputs' `previous`/`current` report — as a key (`haproxy <socket> <backend>`).
   * A drill carries the state one simulated step would leave on it to the next; a failback
   * reverts each resource once, by its net change. Undefined: it cannot tell (each step on its own).
   */
  resource?: (input: Record<string, unknown>) => string | undefined;
  /**
   * With `resource`: whether that state is a map of units a step may name only some of (HAProxy
   * servers, workloads), so the states of one resource combine entry by entry. Absent or false:
   * each state is whole (a record's values, an ELBv2 forward) and replaces the one before.
   */
  state_by_entry?: (input: Record<string, unknown>) => boolean;
}

/** What a worker-evaluated expression may read, and what those names describe (for errors and docs). */
export interface DeferredExpression {
  roots: readonly string[];
  /** "the response": what the expression is evaluated against. */
  against: string;
}

/**
 * What a production action records about a failed (or cancelled) attempt in its failure
 * details (`partial`), so a failback can undo a change that was made before the failure:
 * `previous`, the state it found (the shape of its outputs' `previous`), and `target`, the
 * state it was setting (the shape of `current`); `changed: false` only when it knows that no
 * attempt of the step wrote anything. Absent: it cannot tell, and failback hands it to a person.
 */
export interface PartialChange {
  previous?: unknown;
  target?: unknown;
  changed?: false;
}

/**
 * Builds the reverting step's `with:`: back to the recorded `previous`, guarded by
 * `expect_current` = what the run set, so a change made since stops the failback.
 * Returns undefined when the step changed nothing (already at its target).
 */
export type Revert = (input: Record<string, unknown>, outputs: Record<string, unknown>) => Record<string, unknown> | undefined;

/** Credentials inside a `storage:` block, for actions that take one, and the key manifests are signed with. */
export const STORAGE_SECRETS = ['storage.access_key', 'storage.secret_key', 'storage.manifest_key'];

export function defineAction<I extends z.ZodType, O extends z.ZodType>(spec: ActionSpec<I, O>): ActionSpec<I, O> {
  return spec;
}
