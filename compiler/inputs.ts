// Checking a step's `with:` at compile time: `${{ }}` fields set aside for run time and their issues ignored; drill overrides merged.
import type { z } from 'zod';
import { hasTemplate } from '../contract/expression.ts';

/**
 * Splits a `with:` value into what can be checked now and the paths that hold `${{ }}`
 * (known only at run time). Templated leaves are dropped from the copy; issues at or
 * under their paths are ignored, and the activity validates again after evaluation.
 */
export function withoutTemplates(value: unknown, path: PropertyKey[] = [], found: PropertyKey[][] = []): { value: unknown; templated: PropertyKey[][] } {
  if (typeof value === 'string' && hasTemplate(value)) {
    found.push(path);
    return { value: undefined, templated: found };
  }
  if (Array.isArray(value)) {
    return { value: value.map((v, i) => withoutTemplates(v, [...path, i], found).value), templated: found };
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const inner = withoutTemplates(v, [...path, k], found).value;
      if (inner !== undefined) out[k] = inner;
    }
    return { value: out, templated: found };
  }
  return { value, templated: found };
}

function startsWith(path: ReadonlyArray<PropertyKey>, prefix: ReadonlyArray<PropertyKey>): boolean {
  return prefix.every((p, i) => String(path[i]) === String(p));
}

export function checkInput(schema: z.ZodType, value: unknown): z.core.$ZodIssue[] {
  const { value: stripped, templated } = withoutTemplates(value ?? {});
  const result = schema.safeParse(stripped);
  if (result.success) return [];
  const known = (issue: z.core.$ZodIssue, base: PropertyKey[] = []): boolean => {
    const path = [...base, ...issue.path];
    if (templated.some((t) => startsWith(path, t))) return true;
    // A union fails as a whole; it is fine if one branch failed only on templated fields.
    if (issue.code === 'invalid_union') return issue.errors.some((branch) => branch.every((inner) => known(inner, path)));
    return false;
  };
  return result.error.issues.filter((issue) => !known(issue));
}

/** Drill overrides replace whole top-level `with:` fields. */
export function mergeWith(base: Record<string, unknown>, overrides: Record<string, unknown> | undefined): Record<string, unknown> {
  return overrides ? { ...base, ...overrides } : base;
}
