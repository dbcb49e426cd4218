// `rebound keys`: make the Ed25519 pairs that sign plans (run, serve, schedule apply) and approval votes (serve), and approvers' tokens.
import { createHash, randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { UsageError } from './errors.ts';
import { generateKeyPair, keyFingerprint, signingKey } from '../client/signing.ts';

export function registerKeys(cli: Command): void {
  const keys = cli.command('keys').description('plan signing keys: workers run only plans signed by a key they trust');
  keys
    .command('generate')
    .requiredOption('--out <dir>', 'folder for the new pair (created 0700)')
    .option('--for <use>', 'plans (starters sign runs) or approvals (serve signs votes)', 'plans')
    .description('make a new key pair: <use>-<id>.key (0600) for the signer, <use>-<id>.pub for workers')
    .action((o: { out: string; for: string }) => {
      if (o.for === 'approvals') {
        const pair = generateKeyPair(o.out, 'approval');
        console.log(`new approval signing key ${pair.fingerprint}`);
        console.log(`  rebound serve --approvers FILE: REBOUND_APPROVAL_KEY=${pair.privatePath}`);
        console.log(`  workers: REBOUND_APPROVAL_KEYS=${pair.publicPath}  (comma-separate several, or name a folder of .pub files)`);
        return;
      }
      if (o.for !== 'plans') throw new UsageError(`--for must be plans or approvals, not "${o.for}"`);
      const pair = generateKeyPair(o.out);
      console.log(`new plan signing key ${pair.fingerprint}`);
      console.log(`  starters (rebound run, serve, schedule apply): REBOUND_SIGNING_KEY=${pair.privatePath}`);
      console.log(`  workers: REBOUND_TRUSTED_KEYS=${pair.publicPath}  (comma-separate several, or name a folder of .pub files, while rotating)`);
    });
  keys
    .command('token')
    .argument('<name>', "the approver's name in the approvers file")
    .description("make an approver's token: give the token to the person, put the line for the approvers file in it")
    .action((name: string) => {
      const token = randomBytes(32).toString('base64url');
      console.log(`token for ${name} (give it to them only; it is not stored anywhere): ${token}`);
      console.log(`approvers file:\n  ${name}:\n    token_sha256: ${createHash('sha256').update(token).digest('hex')}`);
    });
  keys
    .command('show')
    .description('print the fingerprint of the key in REBOUND_SIGNING_KEY')
    .action(() => console.log(keyFingerprint(signingKey())));
}
