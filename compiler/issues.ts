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

type Def = { def?: Record<string, unknown> } | undefined;

/** A union's alternative for this step of a path: its list form for an index, else its object form. */
function alternative(node: unknown, segment: PropertyKey | undefined): unknown {
  const def = (node as Def)?.def;
  if (def?.type !== 'union') return node;
  const options = def.options as Def[];
  const wanted = typeof segment === 'number' ? 'array' : 'object';
  return options.find((o) => o?.def?.type === wanted) ?? node;
}

function knownKeys(schema: z.ZodType | undefined, path: ReadonlyArray<PropertyKey>): string[] {
  let node: unknown = schema;
  for (const segment of path) {
    node = alternative(node, segment);
    const def = (node as Def)?.def;
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
  const def = (alternative(node, undefined) as Def)?.def;
  return def?.type === 'object' ? Object.keys(def.shape as object) : [];
}

/** The one alternative of a union whose type the value has, when only one does: its issues. */
function theFormWritten(issue: z.core.$ZodIssueInvalidUnion): z.core.$ZodIssue[] | undefined {
  const typed = issue.errors.filter((branch) => !branch.some((i) => i.path.length === 0 && i.code === 'invalid_type'));
  return typed.length === 1 && typed[0]!.length ? typed[0] : undefined;
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
    // A union whose value had the type of one form only (an object, not a list): that form's issues say more.
    const form = issue.code === 'invalid_union' ? theFormWritten(issue) : undefined;
    if (form) {
      const inner = form.map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as z.core.$ZodIssue);
      errors.push(...issuesToErrors(source, inner, base, code, what, schema));
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
      message = `missing required field "${String(issue.path[issue.path.length - 1] ?? '')}" (expected ${issue.expected})`;
    } else if (issue.code === 'invalid_union' && issue.message === 'Invalid input') {
      // zod's default says nothing; a union that words its forms itself keeps its message.
      message = 'does not match any of the allowed forms';
    }
    errors.push(new CompileError(code, `${what}: ${where ? `${where}: ` : ''}${message}`, source.locate(path)));
  }
  return errors;
}
