// Checking `${{ }}` expressions at compile time: params, secrets, steps, run and trigger references resolved (or an action's own worker-side names), with did-you-mean hints.
import { parseExpression, rewriteHyphenatedNames, secretReference, type AstNode } from '../contract/expression.ts';
import { didYouMean } from './suggest.ts';
import { TRIGGER_FIELDS } from '../contract/trigger.ts';
import type { DeferredExpression } from '../contract/action.ts';

/** What an expression at one place in a runbook may read. */
export interface ReferenceScope {
  params: ReadonlySet<string>;
  secrets: ReadonlySet<string>;
  /** Whether a step is certain to have finished here (undefined outputs: not declared). */
  visible(id: string): boolean;
  /** The outputs a step's action declares, when it declares them. */
  outputs(id: string): readonly string[] | undefined;
  /** Every step id in the runbook, to tell "unknown" from "not finished yet". */
  all: ReadonlySet<string>;
  /** Secrets are only allowed as a whole `${{ secrets.x }}` inside `with:`. */
  allowSecrets: boolean;
  /** The names this place may read, when fewer than all (a trigger's templates read only `trigger`). */
  roots?: ReadonlySet<string>;
  /** The fields of `event`, where it can be read (a spec.notify message); elsewhere it is unknown. */
  event?: readonly string[];
  /**
   * An expression the action evaluates on the worker (compiler/deferred.ts): it reads only the
   * names the action binds, whose fields are the action's to know, and nothing of the run.
   */
  worker?: DeferredExpression & { field: string };
  /** Inside a for_each step or its group's steps: `item` and `index` can be read. */
  loop?: boolean;
  /** The runbook's for_each steps: `steps.x` is then the list of x's iterations. */
  loops?: ReadonlyMap<string, LoopShape>;
}

/** A for_each step as references see it: a group's steps and their declared outputs (absent: the step runs its own action). */
export interface LoopShape {
  children?: ReadonlyMap<string, readonly string[] | undefined>;
}

const RUN_FIELDS = ['id', 'mode', 'started_at', 'runbook'];
const STEP_FIELDS = ['outputs', 'outcome'];
/** What an iteration adds to a step's result: the item it ran for and its position. */
const ITERATION_FIELDS = ['item', 'index'];
const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

function isNode(value: unknown): value is AstNode {
  return !!value && typeof value === 'object' && typeof (value as AstNode).op === 'string';
}

/** A computed or numeric index in a chain (`steps.a[0]`, `x[params.i]`): no name, only a position. */
const INDEX = '[]';

/** `steps.a["b"].c` → ['steps', 'a', 'b', 'c']; `steps.a[0].c` → ['steps', 'a', INDEX, 'c']. */
function chainOf(node: AstNode): string[] | undefined {
  if (node.op === 'id') return [String(node.args)];
  const [target, field] = node.args as [unknown, unknown];
  if (!isNode(target)) return undefined;
  const head = chainOf(target);
  if (!head) return undefined;
  if (node.op === '.' && typeof field === 'string') return [...head, field];
  if (node.op === '[]' && isNode(field) && field.op === 'value' && typeof field.args === 'string') return [...head, field.args];
  if (node.op === '[]') return [...head, INDEX];
  return head;
}

function checkChain(whole: string[], scope: ReferenceScope, bound: ReadonlySet<string>): string | undefined {
  // Only steps are read by position (a for_each's iterations); elsewhere an index ends what can be checked.
  const chain = whole[0] === 'steps' || !whole.includes(INDEX) ? whole : whole.slice(0, whole.indexOf(INDEX));
  const [root, name, field] = chain;
  if (bound.has(root!)) return undefined;
  if (scope.worker) {
    const { field, roots, against } = scope.worker;
    if (roots.includes(root!)) return undefined;
    return `"${root}" cannot be read here: ${field} is evaluated on the worker against ${against}; it can read ${roots.join(', ')}${didYouMean(root!, roots)}`;
  }
  if (scope.roots && !scope.roots.has(root!)) return `"${root}" cannot be read here; only ${[...scope.roots].join(', ')} can`;
  switch (root) {
    case 'trigger':
      return checkTrigger(name, field);
    case 'params':
      if (name === undefined) return undefined;
      return scope.params.has(name) ? undefined : `unknown parameter "${name}"${didYouMean(name, scope.params)}; declare it under spec.parameters`;
    case 'secrets':
      if (!scope.allowSecrets) return 'secrets can only be used as a whole "${{ secrets.NAME }}" value inside with:, so the worker resolves them';
      if (name === undefined) return undefined;
      return scope.secrets.has(name) ? undefined : `unknown secret "${name}"${didYouMean(name, scope.secrets)}; declare it under spec.secrets`;
    case 'event':
      if (!scope.event) return 'event can be read only in spec.notify messages';
      if (name === undefined || scope.event.includes(name)) return undefined;
      return `unknown field event.${name}${didYouMean(name, scope.event)}; event has ${scope.event.join(', ')}`;
    case 'run':
      if (name === undefined || RUN_FIELDS.includes(name)) return undefined;
      return `unknown field run.${name}; run has ${RUN_FIELDS.join(', ')}`;
    case 'steps':
      return checkStep(chain.slice(1), scope);
    case 'item':
    case 'index':
      if (!scope.loop) return `"${root}" can be read only in a for_each step (its with:, if: and name:) or its group's steps`;
      return root === 'index' && name !== undefined ? 'index is a number (0, 1, …); it has no fields' : undefined;
    default:
      return `unknown name "${root}"; expressions read params, steps, run, trigger and secrets`;
  }
}

/** `steps.x.outputs.y`, `steps.x[i].outputs.y` for a for_each, `steps.x[i].steps.y.outputs.z` for its group. */
function checkStep([name, ...rest]: string[], scope: ReferenceScope): string | undefined {
  if (name === undefined || name === INDEX) return undefined;
  if (!scope.all.has(name)) {
    const group = [...(scope.loops ?? [])].find(([, shape]) => shape.children?.has(name))?.[0];
    if (group) return `step "${name}" runs in for_each group "${group}", once per item; read steps.${group}[i].steps.${name}`;
    return `unknown step "${name}"${didYouMean(name, scope.all)}`;
  }
  if (!scope.visible(name)) return `step "${name}" is not certain to have finished here; add it to this step's needs`;
  const loop = scope.loops?.get(name);
  if (!loop) {
    if (rest[0] === INDEX) return `step "${name}" has no iterations (it has no for_each); read steps.${name}.outputs or steps.${name}.outcome`;
    return checkResult(`steps.${name}`, name, rest, scope.outputs(name), STEP_FIELDS);
  }
  if (rest[0] === undefined) return undefined;
  if (rest[0] !== INDEX) {
    return `steps.${name} is the list of its for_each iterations: read steps.${name}[i].${loop.children ? 'steps' : 'outputs'}, or e.g. steps.${name}.all(s, s.outcome == 'success')`;
  }
  const [field, child, ...inner] = rest.slice(1);
  if (!loop.children) return checkResult(`steps.${name}[i]`, name, rest.slice(1), scope.outputs(name), [...STEP_FIELDS, ...ITERATION_FIELDS]);
  if (field === undefined || field !== 'steps') {
    const fields = ['steps', 'outcome', ...ITERATION_FIELDS];
    return field === undefined || fields.includes(field) ? undefined : `unknown field steps.${name}[i].${field}; a group's iteration has ${fields.join(', ')}`;
  }
  if (child === undefined || child === INDEX) return undefined;
  if (!loop.children.has(child))
    return `group "${name}" has no step "${child}"${didYouMean(child, loop.children.keys())}; it has ${[...loop.children.keys()].join(', ')}`;
  return checkResult(`steps.${name}[i].steps.${child}`, child, inner, loop.children.get(child), STEP_FIELDS);
}

/** A step's (or an iteration's) result: its fields, and the outputs its action declares. */
function checkResult(at: string, name: string, [field, output]: string[], outputs: readonly string[] | undefined, fields: string[]): string | undefined {
  if (field === undefined) return undefined;
  if (!fields.includes(field))
    return `unknown field ${at}.${field}; ${fields === STEP_FIELDS ? 'a step' : 'an iteration'} has ${fields.join(fields.length === 2 ? ' and ' : ', ')}`;
  if (field === 'outputs' && output !== undefined && output !== INDEX && outputs && !outputs.includes(output)) {
    return `step "${name}" has no output "${output}"${didYouMean(output, outputs)}; it has ${outputs.join(', ') || 'none'}`;
  }
  return undefined;
}

/** `trigger.kind`, `trigger.alert.labels.x`: the parts and their fields are fixed (contract/trigger.ts). */
function checkTrigger(part: string | undefined, field: string | undefined): string | undefined {
  if (part === undefined) return undefined;
  const parts = Object.keys(TRIGGER_FIELDS);
  if (!parts.includes(part)) return `unknown field trigger.${part}${didYouMean(part, parts)}; trigger has ${parts.join(', ')}`;
  const fields = TRIGGER_FIELDS[part]!;
  if (field === undefined || fields.includes(field)) return undefined;
  if (!fields.length) return `trigger.${part} is a string; it has no field "${field}"`;
  return `unknown field trigger.${part}.${field}${didYouMean(field, fields)}; it has ${fields.join(', ')}`;
}

function walk(node: AstNode, scope: ReferenceScope, bound: ReadonlySet<string>, problems: string[]): void {
  if (node.op === 'id' || node.op === '.' || node.op === '[]') {
    const chain = chainOf(node);
    if (chain) {
      const problem = checkChain(chain, scope, bound);
      if (problem) problems.push(problem);
    }
    // Computed indexes (`steps.a.outputs[params.i]`) are expressions of their own.
    if (node.op !== 'id') for (const arg of node.args as unknown[]) if (isNode(arg) && arg.op !== 'value') walk(arg, scope, bound, problems);
    if (chain) return;
  }
  if (node.op === 'rcall' && Array.isArray(node.args) && MACROS.has(node.args[0] as string)) {
    const [, target, params] = node.args as [string, unknown, unknown[]];
    const variable = isNode(params?.[0]) && params[0].op === 'id' ? String(params[0].args) : undefined;
    const inner = variable ? new Set([...bound, variable]) : bound;
    if (isNode(target)) walk(target, scope, bound, problems);
    for (const arg of params?.slice(1) ?? []) if (isNode(arg)) walk(arg, scope, inner, problems);
    return;
  }
  const visit = (value: unknown): void => {
    if (isNode(value)) walk(value, scope, bound, problems);
    else if (Array.isArray(value)) value.forEach(visit);
  };
  visit(node.args);
}

/** Checks one expression (the text inside `${{ }}`); returns messages, empty when fine. */
export function checkExpression(text: string, scope: ReferenceScope): { source: string; problems: string[] } {
  const source = rewriteHyphenatedNames(text.trim());
  if (source === '') return { source, problems: ['empty expression'] };
  // A bare secret reference is resolved on the worker, never evaluated in the workflow.
  if (secretReference(source) !== undefined) {
    const problems: string[] = [];
    walk(parseExpression(source), scope, new Set(), problems);
    return { source, problems };
  }
  let ast: AstNode;
  try {
    ast = parseExpression(source);
  } catch (error) {
    const first = (error as Error).message.split('\n')[0];
    return { source, problems: [`invalid expression: ${first}`] };
  }
  const problems: string[] = [];
  walk(ast, { ...scope, allowSecrets: false }, new Set(), problems);
  return { source, problems };
}
