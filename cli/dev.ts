import { startStack } from '../stack/embedded.ts';

/** `rebound dev`: the embedded default stack until Ctrl-C. */
export async function devCommand(): Promise<void> {
  const stack = await startStack({ log: (line) => console.log(line) });
  console.log(`Temporal dev server: ${stack.server.address} (data in ${stack.server.dbFile})`);
  console.log(`Web UI: ${stack.server.uiUrl}`);
  console.log(`In another shell: export TEMPORAL_ADDRESS=${stack.server.address}; npx rebound run runbooks/…`);
  await new Promise((r) => {
    process.once('SIGINT', r);
    process.once('SIGTERM', r);
  });
  await stack.stop();
}
