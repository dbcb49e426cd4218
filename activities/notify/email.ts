// E-mail through SMTP with nodemailer: STARTTLS (required) or implicit TLS, AUTH, a text and an HTML part, the run's report attached when asked.
import { readFileSync } from 'node:fs';
import { createTransport } from 'nodemailer';
import { ActionError } from '../runtime/errors.ts';
import type { Message } from './message.ts';

export interface EmailChannel {
  host: string;
  port: number;
  tls: 'starttls' | 'implicit' | 'none';
  ca_file?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
  from: string;
  to: string[];
  cc?: string[] | undefined;
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function emailParts(m: Message): { subject: string; text: string; html: string } {
  const rows = Object.entries(m.fields).map(([k, v]) => `<tr><th align="left">${escape(k)}</th><td>${escape(v)}</td></tr>`);
  const link = m.link ? `<p><a href="${escape(m.link)}">Open run</a></p>` : '';
  const fields = Object.entries(m.fields).map(([k, v]) => `${k}: ${v}`);
  return {
    subject: `[${m.severity}] ${m.title}`,
    text: [m.text, '', ...fields, ...(m.link ? ['', m.link] : [])].join('\n'),
    html: `<p>${escape(m.text).replace(/\n/g, '<br>')}</p><table>${rows.join('')}</table>${link}`,
  };
}

/** SMTP reply codes 4xx are temporary (RFC 5321): retry; 5xx are final, as is a refused login. */
function smtpError(error: unknown, where: string): ActionError {
  const e = error as { responseCode?: number; code?: string; message?: string; response?: string };
  const said = `${where}: ${e.response ?? e.message ?? String(error)}`;
  if (e.code === 'EAUTH' || e.responseCode === 535) return new ActionError('auth_failed', said, { retryable: false });
  if (e.responseCode !== undefined && e.responseCode >= 500) return new ActionError('rejected', said, { retryable: false });
  if (e.code === 'EENVELOPE') return new ActionError('rejected', said, { retryable: false });
  // Another attempt meets the same certificate: only a ca_file (or a fixed server) helps.
  if (/certificate|self.signed|CERT_/i.test(`${e.code ?? ''} ${e.message ?? ''}`)) {
    return new ActionError('rejected', `${said} (the server's TLS certificate is not trusted; give ca_file)`, { retryable: false });
  }
  return new ActionError('unreachable', said, { retryable: true });
}

export async function sendEmail(
  channel: EmailChannel,
  m: Message,
  options: { timeoutMs: number; where: string; signal: AbortSignal; report?: () => Promise<string | undefined> },
): Promise<string> {
  if (channel.tls === 'none' && channel.password) {
    throw new ActionError('invalid_input', `${options.where}: a password is never sent without TLS; use tls: starttls or implicit`, { retryable: false });
  }
  const transport = createTransport({
    host: channel.host,
    port: channel.port,
    secure: channel.tls === 'implicit',
    requireTLS: channel.tls === 'starttls',
    ignoreTLS: channel.tls === 'none',
    ...(channel.user && channel.password ? { auth: { user: channel.user, pass: channel.password } } : {}),
    tls: { ...(channel.ca_file ? { ca: readFileSync(channel.ca_file) } : {}), minVersion: 'TLSv1.2' },
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  const abort = () => transport.close();
  options.signal.addEventListener('abort', abort, { once: true });
  try {
    const report = await options.report?.();
    const parts = emailParts(m);
    const info = await transport.sendMail({
      from: channel.from,
      to: channel.to,
      ...(channel.cc ? { cc: channel.cc } : {}),
      ...parts,
      headers: { 'X-Rebound-Run': m.run_id, 'X-Rebound-Runbook': m.runbook, ...(m.drill ? { 'X-Rebound-Drill': 'true' } : {}) },
      ...(report ? { attachments: [{ filename: `${m.run_id}-report.md`, content: report, contentType: 'text/markdown; charset=utf-8' }] } : {}),
    });
    if (info.rejected.length) throw new ActionError('rejected', `${options.where}: refused recipients ${info.rejected.join(', ')}`, { retryable: false });
    return `accepted by ${info.accepted.length} recipient(s)`;
  } catch (error) {
    if (error instanceof ActionError) throw error;
    throw smtpError(error, options.where);
  } finally {
    options.signal.removeEventListener('abort', abort);
    transport.close();
  }
}
