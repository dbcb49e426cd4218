// Zod issues to located CompileErrors a person can act on: readable paths, missing fields, unknown keys with did-you-mean hints.
import type { z } from 'zod';
import { CompileError, type CompileErrorCode } from './errors.ts';
import type { RunbookSource } from './source.ts';
import { didYouMean } from './suggest.ts';

function describePath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}

function knownKeys(schema: z.ZodType | undefined, path: ReadonlyArray<PropertyKey>): string[] {
  let node: unknown = schema;
  for (const segment of path) {
    const def = (node as { def?: Record<string, unknown> } | undefined)?.def;
    if (!def) return [];
    if (def.type === 'object') node = (def.shape as Record<string, unknown>)[String(segment)];
    else if (def.type === 'array') node = def.element;
    else if (def.type === 'record') node = def.valueType;
    else if (def.type === 'optional' || def.type === 'default') node = def.innerType;
    else return [];
    while (
      (node as { def?: { type: string; innerType?: unknown } })?.def?.innerType &&
      ['optional', 'default'].includes((node as { def: { type: string } }).def.type)
    ) {
      node = (node as { def: { innerType: unknown } }).def.innerType;
    }
  }
  const def = (node as { def?: Record<string, unknown> } | undefined)?.def;
  return def?.type === 'object' ? Object.keys(def.shape as object) : [];
}

/**
 * Turns zod issues into located errors with messages a person can act on. `base` is where
 * the validated value sits in the document; `schema` lets unknown keys get a suggestion.
 */
export function issuesToErrors(
  source: RunbookSource,
  issues: z.core.$ZodIssue[],
  base: ReadonlyArray<PropertyKey>,
  code: CompileErrorCode,
  what: string,
  schema?: z.ZodType,
): CompileError[] {
  const errors: CompileError[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    // `what` already says where the value sits (step, with:); the path inside it is enough.
    const where = describePath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schema, issue.path);
      for (const key of issue.keys) {
        const hint = didYouMean(key, known) || (known.length ? `; allowed: ${known.join(', ')}` : '');
        errors.push(new CompileError(code, `${what}: unknown field "${key}"${hint}`, source.locate([...path, key], { key: true })));
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
      message = `missing required field "${String(issue.path[issue.path.length - 1] ?? '')}" (expected ${issue.expected})`;
    } else if (issue.code === 'invalid_union') {
      message = 'does not match any of the allowed forms';
    }
    errors.push(new CompileError(code, `${what}: ${where ? `${where}: ` : ''}${message}`, source.locate(path)));
  }
  return errors;
}
