// What a pgBackRest repository holds for a stanza (`info --output=json`): its backup sets, and the recoverable window they and the archived WAL give.
import { ActionError } from '../runtime/errors.ts';
import type { ActionContext } from '../runtime/wrap.ts';
import { describeRepository, mapFailure, pgbackrest, type Stanza } from './command.ts';

export interface BackupSet {
  label: string;
  type: 'full' | 'diff' | 'incr';
  prior: string | null;
  annotation?: Record<string, string>;
  archive: { start: string; stop: string };
  lsn: { start: string; stop: string };
  timestamp: { start: number; stop: number };
  database: { id: number };
  error?: boolean;
}

interface StanzaInfo {
  name: string;
  status: { code: number; message: string; lock?: { backup?: { held?: boolean } } };
  backup: BackupSet[];
  archive: Array<{ id: string; min: string | null; max: string | null; database: { id: number } }>;
  db: Array<{ id: number; version: string }>;
  repo?: Array<{ status: { code: number; message: string } }>;
}

/** The stanza's info; `undefined` when the repository has no such stanza yet. Other trouble (a wrong passphrase) throws. */
export async function stanzaInfo(s: Stanza, ctx: Pick<ActionContext, 'signal' | 'mask'>): Promise<StanzaInfo | undefined> {
  // pgBackRest 2.45 writes a status message's raw control characters (a wrong passphrase's
  // multi-line error) into its JSON: as spaces they parse, and nothing else changes.
  const text = (await pgbackrest(s, 'info', ['--output=json'], ctx)).replace(/[\u0000-\u001f]/g, ' ');
  const parsed = JSON.parse(text) as StanzaInfo[];
  const info = parsed.find((i) => i.name === s.stanza);
  if (!info) return undefined;
  // 1: missing stanza path, 2: no valid backups (a stanza just created), 3: missing stanza data.
  if (info.status.code === 1 || info.status.code === 3) return undefined;
  if (info.status.code === 0 || info.status.code === 2) return info;
  const repoMessage = info.repo?.find((r) => r.status.code !== 0)?.status.message ?? info.status.message;
  throw mapFailure(s, 'info', repoMessage);
}

/** The newest archived WAL segment's time in the repository: up to when a restore can replay. */
async function newestWalTime(s: Stanza, info: StanzaInfo, ctx: Pick<ActionContext, 'signal' | 'mask'>): Promise<number | undefined> {
  const db = Math.max(...info.db.map((d) => d.id));
  const archive = info.archive.find((a) => a.database.id === db);
  if (!archive?.max) return undefined;
  const folder = `archive/${s.stanza}/${archive.id}/${archive.max.slice(0, 16)}`;
  const listing = JSON.parse(await pgbackrest(s, 'repo-ls', ['--output=json'], ctx, { positional: [folder] })) as Record<
    string,
    { type: string; time?: number }
  >;
  const times = Object.entries(listing)
    .filter(([name, e]) => e.type === 'file' && name.startsWith(archive.max!))
    .map(([, e]) => e.time ?? 0);
  return times.length ? Math.max(...times) * 1000 : undefined;
}

export interface Window {
  from: string;
  to: string;
}

/**
 * The times a restore can reach: from the end of the oldest valid backup of the current
 * database to the newest archived WAL segment (its archive time: commits up to then can be
 * replayed, later ones cannot).
 */
export async function recoverableWindow(s: Stanza, info: StanzaInfo, ctx: Pick<ActionContext, 'signal' | 'mask'>): Promise<Window | undefined> {
  const db = Math.max(...info.db.map((d) => d.id));
  const sets = info.backup.filter((b) => b.database.id === db && !b.error);
  if (!sets.length) return undefined;
  const from = Math.min(...sets.map((b) => b.timestamp.stop)) * 1000;
  const newest = Math.max(...sets.map((b) => b.timestamp.stop)) * 1000;
  const to = Math.max(newest, (await newestWalTime(s, info, ctx)) ?? 0);
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

/** A time outside the window: not retried, since waiting does not bring an older backup back. */
export function outsideWindow(s: Stanza, target: string, window: Window | undefined): ActionError {
  const where = `stanza ${s.stanza} (repository ${describeRepository(s.repository)})`;
  const span = window ? `its recoverable window is ${window.from} … ${window.to}` : 'it holds no valid backup';
  return new ActionError('invalid_input', `cannot restore ${where} to ${target}: ${span}`, { retryable: false });
}
