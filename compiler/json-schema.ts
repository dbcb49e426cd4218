// `rebound schema`: the runbook JSON Schema for editors, each step's `with:` checked against the schema of the action it uses.
import { z } from 'zod';
import { ChannelSchema } from '../contract/actions/notify.ts';
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
    then: { properties: { with: withSchema(action.name, z.toJSONSchema(action.input, { io: 'input', unrepresentable: 'any' }) as Record<string, any>) } }, // eslint-disable-line @typescript-eslint/no-explicit-any -- as above
  }));
  // spec.channels is checked by the compiler against the channel schema; editors get it too.
  schema.properties.spec.properties.channels.additionalProperties = z.toJSONSchema(ChannelSchema, { io: 'input', unrepresentable: 'any' });
  const step = schema.properties.spec.properties.steps.items;
  step.properties.uses = { type: 'string', enum: [...ACTIONS.keys()], description: 'The action this step runs' };
  step.allOf = withRules;
  // A for_each group's steps check `with:` alike, by reference to the rules above (a copy would double the file).
  const child = step.properties.steps.items;
  const rules = withRules.map((_, i) => ({ $ref: `#/properties/spec/properties/steps/items/allOf/${i}` }));
  Object.assign(child, { properties: { ...child.properties, uses: step.properties.uses }, allOf: rules });
  for (const list of ['on_failure', 'finally']) schema.properties.spec.properties[list].items = step;
  return {
    $id: 'https://rebound.dev/schemas/runbook-v1.json',
    title: 'Rebound runbook (rebound/v1)',
    ...schema,
  };
}

/** A notify step names its channels; the compiler puts their definitions in (compiler/channels.ts). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- zod's JSON Schema output is untyped JSON
function withSchema(action: string, schema: Record<string, any>): Record<string, unknown> {
  if (action !== 'notify') return schema;
  const { drill: _drill, ...properties } = schema.properties;
  return {
    ...schema,
    properties: { ...properties, channels: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'names of spec.channels' } },
  };
}
