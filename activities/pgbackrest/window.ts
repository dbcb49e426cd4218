// The live recoverable window of a pgbackrest point's stanza (for `rebound restore-points windows` and `check`): what a restore can reach now, and when the newest WAL was archived.
import { mask } from '../runtime/secrets.ts';
import type { RestorePoint } from '../restore-points/index.ts';
import type { Credentials } from './command.ts';
import { recoverableWindow, stanzaInfo, type Window } from './info.ts';
import { recordOfPoint, stanzaOf } from './restore.ts';

/** The repository's secrets as pgBackRest itself reads them: PGBACKREST_REPO1_CIPHER_PASS, …_S3_KEY, …_S3_KEY_SECRET. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Credentials {
  return {
    ...(env.PGBACKREST_REPO1_CIPHER_PASS ? { cipher_pass: env.PGBACKREST_REPO1_CIPHER_PASS } : {}),
    ...(env.PGBACKREST_REPO1_S3_KEY ? { s3_key: env.PGBACKREST_REPO1_S3_KEY } : {}),
    ...(env.PGBACKREST_REPO1_S3_KEY_SECRET ? { s3_key_secret: env.PGBACKREST_REPO1_S3_KEY_SECRET } : {}),
  };
}

/**
 * The window of the point's stanza as the repository holds it now (not as the point recorded
 * it at its commit: WAL archived since extends it); undefined when it holds no valid backup.
 * Errors are the pgbackrest actions' own, naming the stanza and repository, secrets masked.
 */
export async function liveWindow(point: RestorePoint, credentials: Credentials & { run_as?: string }): Promise<Window | undefined> {
  const s = stanzaOf(recordOfPoint(point), credentials);
  const secrets = Object.values(credentials).filter((v): v is string => typeof v === 'string' && v !== credentials.run_as);
  const ctx = { signal: new AbortController().signal, mask: (text: string) => mask(text, secrets) };
  const info = await stanzaInfo(s, ctx);
  return info && recoverableWindow(s, info, ctx);
}
