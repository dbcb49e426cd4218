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
  /** `with:` fields that carry credentials: the compiler accepts only a secret reference there. */
  secret_inputs?: string[];
}

export function defineAction<I extends z.ZodType, O extends z.ZodType>(spec: ActionSpec<I, O>): ActionSpec<I, O> {
  return spec;
}
