// The deployment's approvers file (`rebound serve|console --approvers FILE`): each person, their groups, and how they prove who they are — a named token (stored as its sha256) or an mTLS client certificate's subject; `viewers:` may look at the console but never decide.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Voter } from '../client/approvals.ts';
import { AuthConfigError } from './auth.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;

const Person = z.strictObject({
  token_sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'the sha256 of the token, 64 lowercase hex digits (rebound keys token NAME prints it)')
    .optional(),
  certificate: z.string().min(1).optional().describe("the subject CN of the person's client certificate"),
  groups: z.array(z.string().regex(NAME)).default([]),
});

const People = z.record(z.string().regex(NAME, 'a name: letters, digits, . _ @ -'), Person);

const ApproversFile = z.strictObject({
  approvers: People,
  /** People who may read the console (`rebound console`) and decide nothing; serve's approval API does not know them. */
  viewers: People.default({}),
});

export type Approvers = z.infer<typeof ApproversFile>['approvers'];

/** Reads and checks the file: its approvers (serve's approval API knows only these). */
export function loadApprovers(path: string): Approvers {
  return loadPeople(path).approvers;
}

/** Reads and checks the file; a person with no way to authenticate, a token two people share, or a name in both sections stops the start. */
export function loadPeople(path: string): { approvers: Approvers; viewers: Approvers } {
  let data: unknown;
  try {
    data = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AuthConfigError(`--approvers ${path} cannot be read: ${(error as Error).message}`);
  }
  const result = ApproversFile.safeParse(data);
  if (!result.success) {
    throw new AuthConfigError(`--approvers ${path}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const tokens = new Map<string, string>();
  const both = Object.keys(result.data.viewers).filter((name) => name in result.data.approvers);
  if (both.length) throw new AuthConfigError(`--approvers ${path}: ${both.join(', ')} listed as both approver and viewer; keep each person in one section`);
  for (const [name, person] of [...Object.entries(result.data.approvers), ...Object.entries(result.data.viewers)]) {
    if (!person.token_sha256 && !person.certificate) throw new AuthConfigError(`--approvers ${path}: ${name} has neither token_sha256 nor certificate`);
    if (person.token_sha256 && tokens.has(person.token_sha256)) {
      throw new AuthConfigError(`--approvers ${path}: ${name} and ${tokens.get(person.token_sha256)} share a token; each person needs their own`);
    }
    if (person.token_sha256) tokens.set(person.token_sha256, name);
  }
  return result.data;
}

function bearer(headers: Record<string, string | string[] | undefined>): string | undefined {
  const value = headers.authorization;
  const match = /^Bearer\s+(.+)$/i.exec(Array.isArray(value) ? (value[0] ?? '') : (value ?? ''));
  return match?.[1]?.trim();
}

/** The client certificate's CN, when the TLS layer verified it against the client CA. */
function certificateSubject(socket: unknown): string | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (!tls.authorized || typeof tls.getPeerCertificate !== 'function') return undefined;
  const cn = tls.getPeerCertificate().subject?.CN;
  return Array.isArray(cn) ? undefined : cn;
}

/** Who sent this request, by a verified client certificate or by their token; undefined for anyone else. */
export function identify(approvers: Approvers, headers: Record<string, string | string[] | undefined>, socket: unknown): Voter | undefined {
  const subject = certificateSubject(socket);
  if (subject) {
    const found = Object.entries(approvers).find(([, p]) => p.certificate === subject);
    if (found) return { name: found[0], groups: found[1].groups, channel: 'mtls' };
  }
  const token = bearer(headers);
  if (!token) return undefined;
  const digest = createHash('sha256').update(token).digest();
  // Every entry is compared, in constant time, so the answer's timing does not say which matched.
  let match: Voter | undefined;
  for (const [name, person] of Object.entries(approvers)) {
    if (person.token_sha256 && timingSafeEqual(digest, Buffer.from(person.token_sha256, 'hex'))) match = { name, groups: person.groups, channel: 'token' };
  }
  return match;
}
