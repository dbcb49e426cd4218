// `rebound setup`: register Rebound's search attributes on a real Temporal cluster's namespace.
import { Connection } from '@temporalio/client';
import type { Command } from 'commander';
import { connectExplained } from '../client/connect-errors.ts';
import { connectConfig } from '../client/connection.ts';
import { NamespaceMissingError, setupNamespace } from '../client/setup.ts';
import { CommandFailed } from './errors.ts';

export async function setupCommand(namespaceOption?: string): Promise<void> {
  const { connectionOptions, namespace: configured } = connectConfig();
  const namespace = namespaceOption ?? configured;
  const connection = await connectExplained(Connection.connect.bind(Connection), connectionOptions as Parameters<typeof Connection.connect>[0]);
  try {
    const { registered, present } = await setupNamespace(connection, namespace);
    for (const name of present) console.log(`${namespace}: search attribute ${name} already registered`);
    for (const name of registered) console.log(`${namespace}: registered search attribute ${name} (Keyword)`);
    console.log(`namespace ${namespace} is ready for Rebound runs`);
  } catch (error) {
    if (error instanceof NamespaceMissingError) throw new CommandFailed(error.message);
    throw error;
  } finally {
    await connection.close();
  }
}

export function registerSetup(cli: Command): void {
  cli
    .command('setup')
    .option('--namespace <ns>', 'the namespace runs go to (default: $TEMPORAL_NAMESPACE or default)')
    .description('prepare a Temporal namespace for Rebound: register its search attributes (idempotent)')
    .action(async (o) => setupCommand(o.namespace));
}
