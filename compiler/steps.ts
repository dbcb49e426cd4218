// Compiles one phase's step list (main, on_failure or finally): parse, order, then each step.
import { ACTIONS } from '../contract/actions/registry.ts';
import type { Phase, PlanStep } from '../contract/plan.ts';
import { CompileError } from './errors.ts';
import { issuesToErrors } from './issues.ts';
import { StepSchema } from './schema.ts';
import { withAnalysis } from './shift.ts';
import { checkLoopFields, compileGroup, loopShape, withLoop } from './for-each.ts';
import type { LoopShape } from './references.ts';
import { compileStep, declaredOutputs } from './step.ts';
import type { ParsedStep, StepContext } from './step-context.ts';
import { orderSteps } from './step-order.ts';
import { didYouMean } from './suggest.ts';

export interface PhaseInput {
  /** Where the list sits in the document (`['spec', 'steps']`). */
  base: (string | number)[];
  phase: Phase;
  /** Ids seen so far in the runbook, to catch duplicates across phases. */
  ids: Set<string>;
  /** Every step id in the runbook, for "is in another phase" hints. */
  allIds: ReadonlySet<string>;
  /** Steps of phases that finished before this one runs, which its expressions may read. */
  earlier: ReadonlySet<string>;
  /** Declared outputs per step id, filled as phases compile. */
  outputsOf: Map<string, readonly string[] | undefined>;
  /** The for_each steps compiled so far, for `steps.x[i]` (compiler/for-each.ts); absent: none are read. */
  loops?: Map<string, LoopShape>;
}

function parseSteps(raw: unknown[], input: PhaseInput, ctx: StepContext): ParsedStep[] {
  const parsed: ParsedStep[] = [];
  raw.forEach((item, index) => {
    const path = [...input.base, index];
    const result = StepSchema.safeParse(item);
    if (!result.success) {
      ctx.errors.push(...issuesToErrors(ctx.source, result.error.issues, path, 'schema', `step ${index + 1}`, StepSchema));
      return;
    }
    const doc = result.data;
    if (input.ids.has(doc.id)) {
      ctx.errors.push(
        new CompileError('duplicate_step', `duplicate step id "${doc.id}"; step ids must be unique in a runbook`, ctx.source.locate([...path, 'id'])),
      );
      return;
    }
    input.ids.add(doc.id);
    if (!checkLoopFields({ doc, path }, ctx)) return;
    const spec = doc.uses === undefined ? undefined : ACTIONS.get(doc.uses);
    if (doc.uses !== undefined && !spec) {
      ctx.errors.push(
        new CompileError(
          'unknown_action',
          `step "${doc.id}": unknown action "${doc.uses}"${didYouMean(doc.uses!, ACTIONS.keys())}`,
          ctx.source.locate([...path, 'uses']),
        ),
      );
    }
    parsed.push({ doc, path, spec });
  });
  return parsed;
}

export function compileSteps(raw: unknown, input: PhaseInput, ctx: StepContext): PlanStep[] {
  if (!Array.isArray(raw)) return [];
  const parsed = parseSteps(raw, input, ctx);
  const order = orderSteps(parsed, input.allIds, ctx);
  for (const p of parsed) input.outputsOf.set(p.doc.id, declaredOutputs(p.spec));
  for (const p of parsed) if (loopShape(p)) input.loops?.set(p.doc.id, loopShape(p)!);
  return parsed.map((step) => {
    const scope = {
      ctx,
      phase: input.phase,
      order,
      earlier: input.earlier,
      outputsOf: input.outputsOf,
      allIds: input.allIds,
      ...(input.loops ? { loops: input.loops } : {}),
    };
    if (step.doc.steps) return compileGroup(step, scope, input.ids);
    return withLoop(withAnalysis(compileStep(step, scope), step, scope), step, scope);
  });
}
