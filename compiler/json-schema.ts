// `rebound schema`: the runbook JSON Schema for editors, each step's `with:` checked against the schema of the action it uses.
import { z } from 'zod';
import { ACTIONS } from '../contract/actions/registry.ts';
import { RunbookSchema } from './schema.ts';

/**
 * JSON Schema of runbooks for editors (yaml-language-server): the document schema, with
 * each step's `with:` checked against the schema of the action it `uses:`.
 */
export function runbookJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(RunbookSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- zod's JSON Schema output is untyped JSON
  const withRules = [...ACTIONS.values()].map((action) => ({
    if: { properties: { uses: { const: action.name } }, required: ['uses'] },
    then: { properties: { with: z.toJSONSchema(action.input, { io: 'input', unrepresentable: 'any' }) } },
  }));
  const step = schema.properties.spec.properties.steps.items;
  step.properties.uses = { type: 'string', enum: [...ACTIONS.keys()], description: 'The action this step runs' };
  step.allOf = withRules;
  for (const list of ['on_failure', 'finally']) schema.properties.spec.properties[list].items = step;
  return {
    $id: 'https://rebound.dev/schemas/runbook-v1.json',
    title: 'Rebound runbook (rebound/v1)',
    ...schema,
  };
}
