// The OS user a database tool runs as on a worker running as root: the data directory's owner or a named user, since files such a tool writes as root lock the server out of them.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { ActionError } from './errors.ts';

export interface OsUser {
  uid: number;
  gid: number;
  name: string;
}

/**
 * The worker's own user (undefined), unless the worker is root — then `name`, or the owner of
 * `ownerOf` (the data directory), or `postgres`.
 */
export function runAsUser(name: string | undefined, ownerOf?: string): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  if (!name && ownerOf) {
    const { uid, gid } = statSync(ownerOf);
    return uid === 0 ? undefined : { uid, gid, name: `uid ${uid}` };
  }
  const who = name ?? 'postgres';
  const uid = spawnSync('id', ['-u', who], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', who], { encoding: 'utf8' });
  if (uid.status !== 0) throw new ActionError('invalid_input', `run_as: there is no OS user ${who} on this worker`, { retryable: false });
  return { uid: Number(uid.stdout), gid: Number(gid.stdout), name: who };
}
