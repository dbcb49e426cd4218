// Who is using the console: a verified client certificate (mTLS), else a session made when they signed in with their token; approvers may decide, viewers may only look. Sessions live in this process only.
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Voter } from '../client/approvals.ts';
import { identify, loadPeople, type Approvers } from '../serve/approvers.ts';

export type Role = 'viewer' | 'approver';

export interface Person {
  name: string;
  role: Role;
  groups: string[];
  channel: Voter['channel'];
}

/** How long a session lasts without use, and at most. */
export const IDLE_MS = 30 * 60_000;
export const MAX_MS = 12 * 3_600_000;

interface Session {
  person: Person;
  created: number;
  used: number;
}

export interface People {
  approvers: Approvers;
  viewers: Approvers;
}

export function readPeople(path: string): People {
  return loadPeople(path);
}

function asPerson(voter: Voter | undefined, role: Role): Person | undefined {
  return voter ? { name: voter.name, groups: voter.groups, channel: voter.channel, role } : undefined;
}

/** Approvers first: the file refuses a name in both sections, so order only matters for speed. */
function find(people: People, headers: IncomingHttpHeaders, socket: unknown): Person | undefined {
  return asPerson(identify(people.approvers, headers, socket), 'approver') ?? asPerson(identify(people.viewers, headers, socket), 'viewer');
}

/** The person a verified client certificate names (no token is looked at here: a header token is not a browser's way in). */
export function certificatePerson(people: People, socket: unknown): Person | undefined {
  const person = find(people, {}, socket);
  return person?.channel === 'mtls' ? person : undefined;
}

/** The person whose token this is (compared in constant time, every entry, by serve's identify). */
export function tokenPerson(people: People, token: string): Person | undefined {
  if (!token || token.length > 512) return undefined;
  return find(people, { authorization: `Bearer ${token}` }, {});
}

export class Sessions {
  private readonly map = new Map<string, Session>();
  constructor(private readonly now: () => number = Date.now) {}

  /** A new random id (256 bits) for this person; the browser holds only the id. */
  open(person: Person): string {
    this.sweep();
    const id = randomBytes(32).toString('base64url');
    const at = this.now();
    this.map.set(id, { person, created: at, used: at });
    return id;
  }

  /** The session's person while it is fresh; using it keeps it alive up to MAX_MS. */
  get(id: string | undefined): Person | undefined {
    if (!id) return undefined;
    const session = this.map.get(id);
    if (!session) return undefined;
    const at = this.now();
    if (at - session.used > IDLE_MS || at - session.created > MAX_MS) {
      this.map.delete(id);
      return undefined;
    }
    session.used = at;
    return session.person;
  }

  close(id: string | undefined): void {
    if (id) this.map.delete(id);
  }

  /** Ends the sessions of people no longer in the file (after a reload), and re-reads roles of the rest. */
  refresh(people: People): void {
    for (const [id, session] of this.map) {
      const role: Role | undefined = session.person.name in people.approvers ? 'approver' : session.person.name in people.viewers ? 'viewer' : undefined;
      if (!role) this.map.delete(id);
      else session.person = { ...session.person, role };
    }
  }

  private sweep(): void {
    const at = this.now();
    for (const [id, s] of this.map) if (at - s.used > IDLE_MS || at - s.created > MAX_MS) this.map.delete(id);
  }
}

/** Cookie name: `__Host-` under TLS (the browser then insists on Secure, Path=/ and no Domain). */
export const cookieName = (tls: boolean): string => (tls ? '__Host-rebound_session' : 'rebound_session');

export function readCookie(headers: IncomingHttpHeaders, name: string): string | undefined {
  for (const part of (headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

export function sessionCookie(name: string, value: string, tls: boolean, maxAgeS?: number): string {
  const age = maxAgeS === undefined ? '' : `; Max-Age=${maxAgeS}`;
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict${tls ? '; Secure' : ''}${age}`;
}
