// `rebound dev`: the embedded default stack until Ctrl-C or SIGTERM.
import type { Command } from 'commander';
import { startStack } from '../stack/embedded.ts';
import { StackOwner } from '../stack/owner.ts';

export async function devCommand(): Promise<void> {
  const owner = new StackOwner();
  const log = (line: string) => console.log(line);
  try {
    const stack = await startStack(owner, { log });
    console.log(`Temporal dev server: ${stack.server.address} (data in ${stack.server.dbFile})`);
    console.log(`Web UI: ${stack.server.uiUrl}`);
    console.log(`In another shell: export TEMPORAL_ADDRESS=${stack.server.address}; npx rebound run runbooks/…`);
    const stopped = await Promise.race([owner.untilSignal(), stack.running.then(() => 'worker stopped')]);
    console.log(`rebound dev: ${stopped}, stopping the stack`);
  } finally {
    await owner.stopAll(log);
  }
  console.log('rebound dev: stopped');
}

export function registerDev(cli: Command): void {
  cli
    .command('dev')
    .description('start the embedded default stack: Temporal dev server + worker, with the Web UI')
    .action(async () => devCommand());
}
