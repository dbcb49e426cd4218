// `rebound approve|reject RUN STEP`: a vote through rebound serve's approval API, as the person your token or client certificate names.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { VoteRecord } from '../contract/approvals.ts';
import { CommandFailed, UsageError } from './errors.ts';

export interface DecideOptions {
  reason?: string;
  /** The approval API (rebound serve); default REBOUND_APPROVALS_URL. */
  server?: string;
  /** Client certificate and key (mTLS), and the CA that signed serve's certificate. */
  cert?: string;
  key?: string;
  ca?: string;
}

/** The approver's token: REBOUND_APPROVER_TOKEN, or the file REBOUND_APPROVER_TOKEN_FILE names (never an argument: argv is public). */
function token(env: NodeJS.ProcessEnv): string | undefined {
  if (env.REBOUND_APPROVER_TOKEN_FILE) return readFileSync(env.REBOUND_APPROVER_TOKEN_FILE, 'utf8').trim();
  return env.REBOUND_APPROVER_TOKEN || undefined;
}

interface Answer {
  status: number;
  body: { error?: string; run?: string; step?: string; recorded?: VoteRecord | null };
}

function post(url: URL, payload: string, headers: Record<string, string>, options: DecideOptions): Promise<Answer> {
  const tls = options.cert ? { cert: readFileSync(options.cert), key: readFileSync(options.key ?? options.cert) } : {};
  const ca = options.ca ? { ca: readFileSync(options.ca) } : {};
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, ...tls, ...ca }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') as Answer['body'] });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: { error: text.slice(0, 200) } });
        }
      });
    });
    req.on('error', (error) => reject(new CommandFailed(`cannot reach the approval API at ${url.origin}: ${error.message}`)));
    req.end(payload);
  });
}

function describe(run: string, step: string, decision: string, answer: Answer): string {
  const { recorded } = answer.body;
  if (!recorded) return `${decision} sent for ${run} ${step}; the worker has not recorded it yet (see: rebound status ${run})`;
  if (!recorded.counted) throw new CommandFailed(`${decision} by ${recorded.by} on ${run} ${step} was refused: ${recorded.refused}`);
  return `${decision === 'approve' ? 'approved' : 'rejected'} ${run} ${step} as ${recorded.by} (${recorded.channel}; counted)`;
}

export async function decideCommand(run: string, step: string, decision: 'approve' | 'reject', options: DecideOptions, env = process.env): Promise<void> {
  const server = options.server ?? env.REBOUND_APPROVALS_URL;
  if (!server) throw new UsageError('no approval API: pass --server URL or set REBOUND_APPROVALS_URL to the rebound serve that has --approvers');
  const bearer = token(env);
  if (!bearer && !options.cert) throw new UsageError('no identity: set REBOUND_APPROVER_TOKEN (or REBOUND_APPROVER_TOKEN_FILE), or pass --cert and --key');
  const url = new URL(`v1/approvals/${encodeURIComponent(run)}/${encodeURIComponent(step)}`, server.endsWith('/') ? server : `${server}/`);
  const headers: Record<string, string> = bearer ? { authorization: `Bearer ${bearer}` } : {};
  const answer = await post(url, JSON.stringify({ decision, reason: options.reason ?? '' }), headers, options);
  if (answer.status === 401) throw new CommandFailed(`the approval API at ${url.origin} does not know you (check your token or certificate)`);
  if (answer.status === 400 || answer.status === 404) throw new UsageError(answer.body.error ?? 'refused as malformed');
  if (answer.status >= 300) throw new CommandFailed(answer.body.error ?? `the approval API answered ${answer.status}`);
  console.log(describe(run, step, decision, answer));
}
