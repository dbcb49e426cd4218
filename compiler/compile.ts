// The runbook compiler: YAML text to a hashed Plan (parameters, secrets, triggers, three phases, child runbooks), or every located error.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../contract/canonical.ts';
import { parseDuration } from '../contract/duration.ts';
import { CompileError, type CompileWarning, type Location } from './errors.ts';
import { issuesToErrors } from './issues.ts';
import { PLAN_VERSION, type Mode, type Plan, type PlanParameter, type PlanSecret } from '../contract/plan.ts';
import { ParameterSchema, RunbookSchema, SecretSchema } from './schema.ts';
import { RunbookSource } from './source.ts';
import { compileSteps } from './steps.ts';
import { compileTriggers } from './triggers.ts';
import { siteScope } from './sites.ts';
import { compileChannels } from './channels.ts';
import { compileNotifications } from './notifications.ts';
import type { StepContext } from './step-context.ts';
import type { LoopShape } from './references.ts';

export interface LoadedFile {
  file: string;
  text: string;
}

export interface CompileOptions {
  /** Name used in error locations and the plan's `source`. */
  file: string;
  mode?: Mode;
  /** Reads a runbook named by `uses: runbook` (relative to `from`); undefined if missing. */
  load?: (path: string, from: string) => LoadedFile | undefined;
  /** Files being compiled above this one, to catch runbooks that run themselves. */
  stack?: string[];
}

export interface CompileResult {
  plan?: Plan;
  errors: CompileError[];
  /** Located notes on what compiles but should be written another way (child runbooks' too). */
  warnings: CompileWarning[];
  /** spec.channels by name, templates checked (not part of the plan: `rebound notify test` sends through them). */
  channels?: Record<string, Record<string, unknown>>;
}

/** The Plan's `hash`: also used for plans built outside the compiler (a generated failback). */
export function hashPlan(plan: Omit<Plan, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(plan)).digest('hex');
}

function checkParameters(raw: unknown, source: RunbookSource, errors: CompileError[]): Record<string, PlanParameter> {
  const out: Record<string, PlanParameter> = {};
  if (!raw || typeof raw !== 'object') return out;
  for (const [name, value] of Object.entries(raw)) {
    const path = ['spec', 'parameters', name];
    const parsed = ParameterSchema.safeParse(value);
    if (!parsed.success) continue; // reported by the document schema
    const p = parsed.data;
    const at = (field: string): Location => source.locate([...path, field]);
    if (p.default !== undefined) {
      const wrongType = p.type === 'duration' ? typeof p.default !== 'string' || parseDuration(p.default) === undefined : typeof p.default !== p.type;
      if (wrongType) errors.push(new CompileError('parameter', `parameter "${name}": default ${JSON.stringify(p.default)} is not a ${p.type}`, at('default')));
      if (p.required)
        errors.push(new CompileError('parameter', `parameter "${name}": a parameter with a default is never required; remove one of them`, at('required')));
    }
    out[name] = {
      type: p.type,
      required: p.required ?? false,
      ...(p.default !== undefined ? { default: p.default } : {}),
      ...(p.description ? { description: p.description } : {}),
    };
  }
  return out;
}

interface CheckedDocument {
  source: RunbookSource;
  /** The document's schema check; the plan is assembled only when it passed. */
  checked: ReturnType<typeof RunbookSchema.safeParse>;
  spec: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** Syntax, then the document schema; step-level issues are left to the step compiler. */
function checkDocument(text: string, options: CompileOptions, errors: CompileError[]): CheckedDocument | CompileResult {
  const source = new RunbookSource(options.file, text);
  const syntax = source.syntaxErrors();
  if (syntax.length) return { errors: syntax, warnings: [] };
  const { data: raw, error } = source.toData();
  if (error) return { errors: [error], warnings: [] };
  const doc = raw as Record<string, unknown> | null;
  const checked = RunbookSchema.safeParse(doc);
  if (!checked.success) {
    // Step-level issues are reported by compileSteps, with more context; keep the rest here.
    const stepIssue = (path: PropertyKey[]): boolean =>
      path[0] === 'spec' && ['steps', 'on_failure', 'finally'].includes(String(path[1])) && typeof path[2] === 'number';
    const issues = checked.error.issues.filter((i) => !stepIssue(i.path));
    errors.push(...issuesToErrors(source, issues, [], 'schema', 'runbook', RunbookSchema));
  }
  const spec = ((doc && typeof doc === 'object' ? doc.spec : undefined) ?? {}) as Record<string, unknown>;
  const metadata = ((doc && typeof doc === 'object' ? doc.metadata : undefined) ?? {}) as Record<string, unknown>;
  return { source, checked, spec, metadata };
}

function checkSecrets(raw: unknown): Record<string, PlanSecret> {
  const secrets: Record<string, PlanSecret> = {};
  for (const [name, value] of Object.entries((raw as object) ?? {})) {
    const parsed = SecretSchema.safeParse(value);
    if (parsed.success) secrets[name] = parsed.data;
  }
  return secrets;
}

/** Compiles `uses: runbook` children into the parent's plan, refusing runbooks that run themselves. */
function childCompiler(
  options: CompileOptions,
  source: RunbookSource,
  found: Pick<StepContext, 'errors' | 'warnings'>,
  children: Record<string, Plan>,
): StepContext['child'] {
  const { errors } = found;
  const stack = [...(options.stack ?? []), options.file];
  return (path, at) => {
    const location = source.locate(at);
    const loaded = options.load?.(path, options.file);
    if (!loaded) {
      errors.push(new CompileError('child_runbook', `runbook "${path}" not found (paths are relative to ${options.file})`, location));
      return undefined;
    }
    if (stack.includes(loaded.file)) {
      errors.push(new CompileError('child_runbook', `runbook "${path}" would run itself: ${[...stack, loaded.file].join(' → ')}`, location));
      return undefined;
    }
    const result = compile(loaded.text, { ...options, file: loaded.file, stack });
    found.warnings.push(...result.warnings);
    if (!result.plan) {
      errors.push(new CompileError('child_runbook', `runbook "${path}" does not compile (${result.errors.length} error(s) below)`, location));
      errors.push(...result.errors);
      return undefined;
    }
    children[path] = result.plan;
    return path;
  };
}

/** The three phases in order; later phases may read every step of the phases before them. */
function compilePhases(spec: Record<string, unknown>, ctx: StepContext): Pick<Plan, 'steps' | 'on_failure' | 'finally'> {
  const allIds = new Set<string>();
  for (const list of ['steps', 'on_failure', 'finally']) {
    for (const step of (Array.isArray(spec[list]) ? spec[list] : []) as Array<{ id?: unknown }>) {
      if (typeof step?.id === 'string') allIds.add(step.id);
    }
  }
  const shared = { ids: new Set<string>(), allIds, outputsOf: new Map<string, readonly string[] | undefined>(), loops: new Map<string, LoopShape>() };
  const steps = compileSteps(spec.steps, { ...shared, base: ['spec', 'steps'], phase: 'main', earlier: new Set() }, ctx);
  // Compensation and cleanup may read any main step: they run after the main phase ended.
  const mainDone = new Set(steps.map((s) => s.id));
  const onFailure = compileSteps(spec.on_failure, { ...shared, base: ['spec', 'on_failure'], phase: 'on_failure', earlier: mainDone }, ctx);
  const afterFailure = new Set([...mainDone, ...onFailure.map((s) => s.id)]);
  const final = compileSteps(spec.finally, { ...shared, base: ['spec', 'finally'], phase: 'finally', earlier: afterFailure }, ctx);
  return { steps, on_failure: onFailure, finally: final };
}

/** YAML text → Plan, or every error found, each located. Pure but for `load`. */
export function compile(text: string, options: CompileOptions): CompileResult {
  const mode = options.mode ?? 'run';
  const errors: CompileError[] = [];
  const warnings: CompileWarning[] = [];
  const document = checkDocument(text, options, errors);
  if (!('checked' in document)) return document;
  const { source, checked, spec, metadata } = document;
  const parameters = checkParameters(spec.parameters, source, errors);
  const secrets = checkSecrets(spec.secrets);
  const triggers = checked.success ? checked.data.spec.triggers : undefined;
  const children: Record<string, Plan> = {};
  const ctx: StepContext = {
    source,
    mode,
    params: new Set(Object.keys((spec.parameters as object) ?? {})),
    secrets: new Set(Object.keys((spec.secrets as object) ?? {})),
    secretHosts: new Map(Object.entries(secrets).map(([name, s]) => [name, { ...(s.hosts ? { declared: s.hosts } : {}), fixed: new Set<string>() }])),
    errors,
    warnings,
    child: childCompiler(options, source, { errors, warnings }, children),
    sites: siteScope(spec, source, errors),
    channels: new Map(),
  };
  ctx.channels = compileChannels(spec.channels, ctx);
  const planTriggers = compileTriggers(triggers, ctx, parameters);
  const phases = compilePhases(spec, ctx);
  const stepIds = new Set([...phases.steps, ...phases.on_failure, ...phases.finally].map((s) => s.id));
  const notify = compileNotifications(spec.notify, ctx, stepIds);
  if (errors.length || !checked.success) return { errors: dedupe(errors), warnings: dedupe(warnings) };
  // A secret that goes only to fixed destinations may go only there: the signed plan says so, and the worker holds to it.
  for (const [name, hosts] of ctx.secretHosts) {
    if (!hosts.declared && hosts.fixed.size) secrets[name] = { ...secrets[name]!, hosts: [...hosts.fixed].sort() };
  }
  const data = checked.data;
  const objectives = data.spec.objectives ?? {};
  const body: Omit<Plan, 'hash'> = {
    version: PLAN_VERSION,
    name: data.metadata.name,
    ...(data.metadata.description ? { description: data.metadata.description } : {}),
    labels: (metadata.labels as Record<string, string>) ?? {},
    source: options.file,
    mode,
    objectives: {
      ...(objectives.rto ? { rto_ms: parseDuration(objectives.rto) } : {}),
      ...(objectives.rpo ? { rpo_ms: parseDuration(objectives.rpo) } : {}),
    },
    parameters,
    secrets,
    triggers: planTriggers,
    ...(ctx.sites.sites ? { sites: [...ctx.sites.sites] } : {}),
    ...phases,
    children,
    ...(notify ? { notify } : {}),
  };
  const channels = Object.fromEntries([...ctx.channels].map(([name, c]) => [name, c.rendered]));
  return { plan: { ...body, hash: hashPlan(body) }, errors: [], warnings: dedupe(warnings), channels };
}

function dedupe<E extends CompileError>(errors: E[]): E[] {
  const seen = new Set<string>();
  return errors
    .filter((e) => {
      const key = e.format();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => (a.location.file === b.location.file ? a.location.line - b.location.line || a.location.col - b.location.col : 0));
}
