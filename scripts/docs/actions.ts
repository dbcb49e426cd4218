// docs/actions.md: every registered action — summary, impact, what a drill does, failback, secrets, inputs, outputs — from its definition and the prose beside it.
import { readFileSync } from 'node:fs';
import type { ActionSpec } from '../../contract/action.ts';
import { ACTIONS } from '../../contract/actions/registry.ts';
import { fieldRows, jsonSchema, sharedBlocks, type FieldRow, type JsonSchema } from './fields.ts';
import { anchor, generatedNotice, markdownTable, type DocPage } from './page.ts';

const PROSE = new URL('./actions-prose.md', import.meta.url);

interface Group {
  title: string;
  notes: string;
  actions: string[];
}

interface Prose {
  intro: string;
  groups: Group[];
  /** What each action does, in words, by action name. */
  does: Map<string, string>;
}

/** actions-prose.md: an intro, then `# group` (its notes) with `## action` sections (what it does). */
function parseProse(text: string): Prose {
  const [intro = '', ...groupTexts] = text.replace(/^<!--[\s\S]*?-->\s*/, '').split(/^# /m);
  const does = new Map<string, string>();
  const groups = groupTexts.map((groupText) => {
    const [head = '', ...sections] = groupText.split(/^## /m);
    const [title = '', ...notes] = head.split('\n');
    const actions = sections.map((section) => {
      const [name = '', ...body] = section.split('\n');
      does.set(name.trim(), body.join('\n').trim());
      return name.trim();
    });
    return { title: title.trim(), notes: notes.join('\n').trim(), actions };
  });
  return { intro: intro.trim(), groups, does };
}

const code = (value: unknown) => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
const list = (names: string[]) => names.map(code).join(', ');

/** What the compiler makes of the step in a drill (compiler/drill.ts), from impact, drill targets and simulation. */
function drillBehaviour(spec: ActionSpec): string {
  const targets = spec.drill_targets?.length ? ` replacing ${spec.drill_targets.map(code).join(' or ')}` : '';
  if (spec.impact === 'read') return 'runs as in a real run (it only reads).';
  if (spec.impact === 'production' && spec.simulates) {
    return `simulated by default: the step reports the change it would make instead of making it; \`drill: {with: {…}}\`${targets} runs it against those targets instead, \`drill: skip\` skips it.`;
  }
  const simulate = spec.simulates ? ', `drill: simulate`' : '';
  return `needs \`drill: {with: {…}}\`${targets} (drill-safe targets)${simulate} or \`drill: skip\`; otherwise the runbook does not compile for drills.`;
}

function failback(spec: ActionSpec): string | undefined {
  const by = spec.reverted_by;
  if (spec.revert && by)
    return `\`rebound failback\` undoes a step that changed something with a \`${by.uses}\` step built from its \`with:\` and outputs${by.site ? ', on the site its `with:` names' : ''}, guarded by \`expect_current\`.`;
  if (spec.revert) return '`rebound failback` sets a step that changed something back to its recorded `previous`, guarded by `expect_current`.';
  if (spec.impact === 'production') return 'not reverted automatically: `rebound failback` lists the step as manual work (an approval in its place).';
  if (spec.restores_over) return '`rebound failback` lists what the step restored over as manual work: nothing takes restored data back out.';
  return undefined;
}

/** Failure codes, for definitions that declare them (a `failures` list or table); none do yet. */
function failureCodes(spec: ActionSpec): string[][] {
  const declared = (spec as unknown as Record<string, unknown>).failures;
  if (Array.isArray(declared)) {
    return declared.map((f) =>
      typeof f === 'string' ? [code(f), ''] : [code((f as { code?: unknown }).code), String((f as { description?: unknown }).description ?? '')],
    );
  }
  if (declared && typeof declared === 'object') return Object.entries(declared).map(([name, text]) => [code(name), String(text)]);
  return [];
}

const fieldName = (row: FieldRow) => `${code(row.path)}${row.required ? ' *' : ''}`;
const blockLink = (row: FieldRow) => (row.block ? `[${row.block} block](#${anchor(`the ${row.block} block`)})` : '');

function inputTable(rows: FieldRow[], secrets: Set<string>): string {
  return markdownTable(
    ['field', 'type', 'default', 'description'],
    rows.map((r) => [
      fieldName(r) + (secrets.has(r.path) ? ' (secret)' : ''),
      r.block ? blockLink(r) : r.type,
      r.default === undefined ? '' : code(r.default),
      r.description,
    ]),
  );
}

function outputTable(rows: FieldRow[]): string {
  return markdownTable(
    ['field', 'type', 'description'],
    rows.map((r) => [code(r.path), r.block ? blockLink(r) : r.type, r.description]),
  );
}

function actionSection(spec: ActionSpec, does: string | undefined, blocks: ReadonlyMap<string, string>): string {
  const runs = spec.kind === 'workflow' ? 'in the workflow itself (no worker, no site)' : `on a worker, as an activity (backend \`${spec.backend}\`)`;
  const facts = [`- **impact**: \`${spec.impact}\`; runs ${runs}.`, `- **in a drill**: ${drillBehaviour(spec)}`];
  const back = failback(spec);
  if (back) facts.push(`- **failback**: ${back}`);
  if (spec.secret_inputs?.length) facts.push(`- **secrets**: ${list(spec.secret_inputs)} (only a secret reference, \`\${{ secrets.x }}\`, is accepted there).`);
  const destinations = Object.entries(spec.secret_destinations ?? {});
  if (destinations.length)
    facts.push(`- **where secrets go**: ${destinations.map(([from, to]) => `${code(from)} only to the host of ${code(to)}`).join('; ')}.`);
  for (const [field, { roots, against }] of Object.entries(spec.deferred_expressions ?? {}))
    facts.push(
      `- **evaluated on the worker**: ${code(field)} is CEL over ${against} (${list([...roots])}), bare or in one \`\${{ }}\`; it reads nothing of the run.`,
    );
  const secrets = new Set(spec.secret_inputs ?? []);
  const out = [`### \`${spec.name}\``, '', `**${spec.summary}.**`, ...(does ? ['', does] : []), '', ...facts, ''];
  const inputs = fieldRows(jsonSchema(spec.input, 'input'), blocks);
  out.push('Inputs (`with:`; `*` required):', '', inputs.length ? inputTable(inputs, secrets) : 'none.', '');
  const outputs = fieldRows(jsonSchema(spec.output, 'output'), blocks);
  out.push('Outputs (`steps.<id>.outputs`):', '', outputs.length ? outputTable(outputs) : 'none.', '');
  const failures = failureCodes(spec);
  if (failures.length) out.push('Failure codes:', '', markdownTable(['code', 'meaning'], failures), '');
  return out.join('\n');
}

function groupSection(group: Group, prose: Prose, blocks: ReadonlyMap<string, string>): string {
  const specs = group.actions.map((name) => ACTIONS.get(name)!);
  const out = [`## ${group.title}`, ''];
  if (specs.length) {
    const rows = specs.map((s) => [`[\`${s.name}\`](#${anchor(`\`${s.name}\``)})`, s.impact, s.summary]);
    out.push(markdownTable(['action', 'impact', 'summary'], rows), '');
  }
  if (group.notes) out.push(group.notes, '');
  for (const spec of specs) out.push(actionSection(spec, prose.does.get(spec.name), blocks));
  return out.join('\n');
}

function blockSection(name: string, schema: JsonSchema, blocks: ReadonlyMap<string, string>): string {
  const inner = new Map([...blocks].filter(([, n]) => n !== name));
  const rows = fieldRows(schema, inner);
  // A field of the block is secret where any action taking the block says so (`storage.secret_key`).
  const secrets = new Set(
    [...ACTIONS.values()].flatMap((a) => (a.secret_inputs ?? []).filter((p) => p.startsWith(`${name}.`)).map((p) => p.slice(name.length + 1))),
  );
  return [`### The ${name} block`, '', inputTable(rows, secrets), ''].join('\n');
}

async function renderActions(proseText = readFileSync(PROSE, 'utf8')): Promise<string> {
  const prose = parseProse(proseText);
  const unknown = prose.groups.flatMap((g) => g.actions).filter((name) => !ACTIONS.has(name));
  if (unknown.length) throw new Error(`scripts/docs/actions-prose.md describes actions the registry does not have: ${unknown.join(', ')}`);
  // A registered action nobody wrote prose for still gets its reference section.
  const described = new Set(prose.groups.flatMap((g) => g.actions));
  const rest = [...ACTIONS.keys()].filter((name) => !described.has(name));
  const groups = rest.length ? [...prose.groups, { title: 'Other actions', notes: '', actions: rest }] : prose.groups;
  const shared = sharedBlocks([...ACTIONS.values()].map((a) => ({ action: a.name, schema: jsonSchema(a.input, 'input') })));
  const blocks = new Map([...shared].map(([key, b]) => [key, b.name]));
  const contents = groups.map((g) => `- [${g.title}](#${anchor(g.title)})${g.actions.length ? `: ${g.actions.map(code).join(', ')}` : ''}`);
  return [
    generatedNotice('the action definitions (`contract/actions/`, listed in `contract/actions/registry.ts`) and `scripts/docs/actions-prose.md`'),
    '',
    '# Actions',
    '',
    'Every action a step may `uses:`. Each section gives what the action does, its impact and what a drill does with it',
    '(see [Modes](runbooks.md#modes)), how `rebound failback` treats it (see [Failback](runbooks.md#failback)), which',
    '`with:` fields take secrets, and its inputs and outputs with their types and defaults, as the definitions declare them.',
    '',
    prose.intro,
    '',
    ...contents,
    `- [Shared blocks](#shared-blocks): ${[...shared.values()].map((b) => code(b.name)).join(', ')}`,
    '',
    ...groups.map((g) => groupSection(g, prose, blocks)),
    '## Shared blocks',
    '',
    'Blocks that several actions take in the same shape.',
    '',
    ...[...shared.values()].map((b) => blockSection(b.name, b.schema, blocks)),
  ]
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

export const page: DocPage = { path: 'docs/actions.md', render: () => renderActions() };
