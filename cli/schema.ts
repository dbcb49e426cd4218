// `rebound schema`: the JSON Schema of runbooks (steps and each action's `with:`), for editors.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { runbookJsonSchema } from '../compiler/json-schema.ts';

function writeSchema(path: string | undefined, schema: unknown): void {
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  if (path) writeFileSync(path, text);
  else process.stdout.write(text);
}

export function registerSchema(cli: Command): void {
  cli
    .command('schema')
    .option('--out <file>', 'write to a file instead of stdout')
    .description('JSON Schema of runbooks, for editors (yaml-language-server)')
    .action((o) => writeSchema(o.out, runbookJsonSchema()));
}
