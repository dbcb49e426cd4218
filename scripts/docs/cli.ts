// docs/cli.md: an overview of the `rebound` command (cli-prose.md), then the --help of every command and subcommand, as commander prints it.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { program } from '../../cli/main.ts';
import { generatedNotice, type DocPage } from './page.ts';

const PROSE = new URL('./cli-prose.md', import.meta.url);
/** A fixed width, so the page does not depend on the terminal it was generated in. */
const HELP_WIDTH = 100;

/** `rebound`, `rebound restore-points list`, … with each command, depth first in registration order. */
function commands(command: Command, path: string[] = [command.name()]): Array<{ path: string; command: Command }> {
  return [{ path: path.join(' '), command }, ...command.commands.flatMap((c) => commands(c, [...path, c.name()]))];
}

function helpOf(command: Command): string {
  command.configureHelp({ helpWidth: HELP_WIDTH });
  return command.helpInformation().trimEnd();
}

function renderCli(proseText = readFileSync(PROSE, 'utf8')): string {
  const all = commands(program());
  return [
    generatedNotice("`cli/` (commander's help of every command) and `scripts/docs/cli-prose.md`"),
    '',
    '# The `rebound` command',
    '',
    proseText.replace(/^<!--[\s\S]*?-->\s*/, '').trim(),
    '',
    '## Every command',
    '',
    'What `rebound <command> --help` prints.',
    '',
    ...all.flatMap(({ path, command }) => [`### \`${path}\``, '', '```text', helpOf(command), '```', '']),
  ].join('\n');
}

export const page: DocPage = { path: 'docs/cli.md', render: () => renderCli() };
