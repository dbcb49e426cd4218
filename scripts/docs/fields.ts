// Action schemas as documentation rows: each `with:` or output field's dotted path, type, default and `.describe()` text, from zod's JSON Schema.
import { z } from 'zod';
import { DURATION_PATTERN } from '../../contract/duration.ts';

/** The JSON Schema zod writes, as far as these pages read it. */
export interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

export interface FieldRow {
  path: string;
  type: string;
  required: boolean;
  default?: unknown;
  description: string;
  /** The name of a shared block this field is (rendered once, linked from here). */
  block?: string;
}

/** `with:` as a runbook writes it (defaults optional), outputs as the action returns them. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
}

/** The same block, whatever a field says about it: key for spotting blocks several actions share. */
export function blockKey(schema: JsonSchema): string {
  const { description: _d, default: _def, ...shape } = schema;
  return JSON.stringify(shape);
}

const code = (value: unknown) => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;

/** `0–9`, `≥ 1`; zod's bounds of a safe integer say nothing. */
function range(s: JsonSchema): string {
  const min = s.minimum === Number.MIN_SAFE_INTEGER ? undefined : s.minimum;
  const max = s.maximum === Number.MAX_SAFE_INTEGER ? undefined : s.maximum;
  if (min !== undefined && max !== undefined) return ` ${min}–${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return '';
}

/** A field's type in a few words: `duration`, `string (uri)`, `` `a` | `b` ``, `map of string`, `object[]`. */
export function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return code(s.const);
  if (s.enum) return s.enum.map(code).join(' | ');
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return [...new Set(alternatives.map(typeOf))].join(' | ');
  if (Array.isArray(s.type)) return s.type.join(' | ');
  switch (s.type) {
    case 'array': {
      const item = s.items ? typeOf(s.items) : 'any';
      return item.includes(' ') ? `list of ${item}` : `${item}[]`;
    }
    case 'object':
      if (s.properties) return 'object';
      if (typeof s.additionalProperties === 'object') return `map of ${typeOf(s.additionalProperties)}`;
      return 'object';
    case 'string':
      if (s.pattern === DURATION_PATTERN.source) return 'duration';
      return s.format ? `string (${s.format})` : 'string';
    case 'integer':
    case 'number':
      return `${s.type}${range(s)}`;
    case undefined:
      return 'any';
    default:
      return s.type;
  }
}

/** The object schemas inside a field that have fields of their own: itself, its list items, its alternatives. */
function nested(s: JsonSchema): Array<{ suffix: string; schema: JsonSchema }> {
  if (s.properties) return [{ suffix: '', schema: s }];
  if (s.type === 'array' && s.items) return nested(s.items).map((n) => ({ ...n, suffix: `[]${n.suffix}` }));
  return (s.anyOf ?? s.oneOf ?? []).flatMap(nested);
}

/** A description for a field: its own, else the one its alternatives share (zod puts `.describe()` of a union member there). */
function describe(s: JsonSchema): string {
  if (s.description) return s.description;
  const alternatives = (s.anyOf ?? s.oneOf ?? []).filter((a) => a.description).map((a) => `${typeOf(a)}: ${a.description}`);
  return alternatives.join('; ');
}

/**
 * Every field of an object schema, depth first, with dotted paths (`storage.url`,
 * `checks.queries[].sql`). A field whose block is in `blocks` (by `blockKey`) gets one row
 * naming the block instead of its fields.
 */
export function fieldRows(schema: JsonSchema, blocks: ReadonlyMap<string, string> = new Map(), prefix = ''): FieldRow[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).flatMap(([name, field]) => {
    const path = `${prefix}${name}`;
    const block = blocks.get(blockKey(field));
    const row: FieldRow = { path, type: block ? `${block} block` : typeOf(field), required: required.has(name), description: describe(field), block };
    if (field.default !== undefined) row.default = field.default;
    if (block) return [row];
    return [row, ...nested(field).flatMap((n) => fieldRows(n.schema, blocks, `${path}${n.suffix}.`))];
  });
}

/** Object-valued fields that at least `minActions` actions take in the same shape, with at least `minFields` fields: documented once. */
export function sharedBlocks(
  inputs: Array<{ action: string; schema: JsonSchema }>,
  minActions = 3,
  minFields = 3,
): Map<string, { name: string; schema: JsonSchema }> {
  const seen = new Map<string, { names: Map<string, number>; actions: Set<string>; schema: JsonSchema }>();
  const visit = (action: string, schema: JsonSchema) => {
    for (const [name, field] of Object.entries(schema.properties ?? {})) {
      if (Object.keys(field.properties ?? {}).length >= minFields) {
        const key = blockKey(field);
        const entry = seen.get(key) ?? { names: new Map(), actions: new Set(), schema: field };
        entry.names.set(name, (entry.names.get(name) ?? 0) + 1);
        entry.actions.add(action);
        seen.set(key, entry);
      }
      for (const n of nested(field)) visit(action, n.schema);
    }
  };
  for (const { action, schema } of inputs) visit(action, schema);
  const blocks = new Map<string, { name: string; schema: JsonSchema }>();
  const taken = new Set<string>();
  for (const [key, entry] of seen) {
    if (entry.actions.size < minActions) continue;
    const base = [...entry.names].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0];
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
    taken.add(name);
    blocks.set(key, { name, schema: entry.schema });
  }
  return blocks;
}
