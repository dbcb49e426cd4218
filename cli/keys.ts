// `rebound keys`: make the Ed25519 pair that signs plans (for run, serve, schedule apply) and that workers trust.
import type { Command } from 'commander';
import { generateKeyPair, keyFingerprint, signingKey } from '../client/signing.ts';

export function registerKeys(cli: Command): void {
  const keys = cli.command('keys').description('plan signing keys: workers run only plans signed by a key they trust');
  keys
    .command('generate')
    .requiredOption('--out <dir>', 'folder for the new pair (created 0700)')
    .description('make a new signing key pair: signing-<id>.key (0600) for starters, signing-<id>.pub for workers')
    .action((o: { out: string }) => {
      const pair = generateKeyPair(o.out);
      console.log(`new plan signing key ${pair.fingerprint}`);
      console.log(`  starters (rebound run, serve, schedule apply): REBOUND_SIGNING_KEY=${pair.privatePath}`);
      console.log(`  workers: REBOUND_TRUSTED_KEYS=${pair.publicPath}  (comma-separate several, or name a folder of .pub files, while rotating)`);
    });
  keys
    .command('show')
    .description('print the fingerprint of the key in REBOUND_SIGNING_KEY')
    .action(() => console.log(keyFingerprint(signingKey())));
}
