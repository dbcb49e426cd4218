// The test SMTP server (stack/smtp.ts) against a real client, nodemailer: plain, STARTTLS with AUTH, implicit TLS, wrong passwords and refused recipients.
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtp, type SmtpServer } from './smtp.ts';

const user = 'rebound-alerts';
const password = 'correct horse battery staple';
const refused = 'nobody@example.net';

// One server per mode, shared by the cases: each start makes a certificate and a Python process.
let plain: SmtpServer;
let starttls: SmtpServer;
let implicit: SmtpServer;
beforeAll(async () => {
  [plain, starttls, implicit] = await Promise.all([
    startSmtp({ tls: 'none', refuse: [refused] }),
    startSmtp({ tls: 'starttls', auth: { user, password } }),
    startSmtp({ tls: 'implicit', auth: { user, password } }),
  ]);
});
afterAll(async () => {
  await Promise.all([plain?.stop(), starttls?.stop(), implicit?.stop()]);
});

/** A one-shot nodemailer transport to `server` (no pool, so each send is its own session). */
function client(server: SmtpServer, options: SMTPTransport.Options = {}) {
  return nodemailer.createTransport({
    host: server.host,
    port: server.port,
    tls: { ca: readFileSync(server.caFile) },
    connectionTimeout: 5_000,
    greetingTimeout: 5_000,
    ...options,
  });
}

/** The message whose Subject is `subject` (cases share servers, so each picks its own out). */
async function received(server: SmtpServer, subject: string) {
  return (await server.messages()).filter((mail) => mail.data.includes(`\r\nSubject: ${subject}\r\n`) || mail.data.startsWith(`Subject: ${subject}\r\n`));
}

describe('the test SMTP server (aiosmtpd)', () => {
  it('keeps a plain message with its envelope and headers', async () => {
    const info = await client(plain, { ignoreTLS: true }).sendMail({
      from: 'rebound@example.com',
      to: 'oncall@example.com',
      subject: 'plain drill report',
      headers: { 'X-Rebound-Run': 'run-42' },
      text: 'Drill passed.\n.\nA line with only a dot, to check dot-stuffing.',
    });
    expect(info.accepted).toEqual(['oncall@example.com']);
    const [mail, ...more] = await received(plain, 'plain drill report');
    expect(more).toEqual([]);
    expect(mail).toMatchObject({ mail_from: 'rebound@example.com', rcpt_tos: ['oncall@example.com'], tls: false, auth_user: null });
    expect(mail!.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(mail!.data).toMatch(/^From: rebound@example\.com\r$/m);
    expect(mail!.data).toMatch(/^To: oncall@example\.com\r$/m);
    expect(mail!.data).toMatch(/^X-Rebound-Run: run-42\r$/m);
    expect(mail!.data).toMatch(/^Message-ID: <.+>\r$/m);
    expect(mail!.data).toContain('\r\n\r\nDrill passed.\r\n.\r\nA line with only a dot');
  });

  it('refuses a listed recipient with 550 at RCPT TO: the client sees it, the others still get the message', async () => {
    const info = await client(plain, { ignoreTLS: true }).sendMail({
      from: 'rebound@example.com',
      to: ['oncall@example.com', refused],
      subject: 'partly refused',
      text: 'x',
    });
    expect(info.accepted).toEqual(['oncall@example.com']);
    expect(info.rejected).toEqual([refused]);
    // The SMTP transport passes the connection's rejectedErrors through; @types/nodemailer declares them on the connection only.
    const { rejectedErrors } = info as SMTPTransport.SentMessageInfo & Pick<SMTPConnection.SentMessageInfo, 'rejectedErrors'>;
    expect(rejectedErrors?.[0]).toMatchObject({ responseCode: 550, recipient: refused });
    expect((await received(plain, 'partly refused')).map((mail) => mail.rcpt_tos)).toEqual([['oncall@example.com']]);

    // All recipients refused: the send fails, with the server's 550.
    const failed = client(plain, { ignoreTLS: true }).sendMail({ from: 'rebound@example.com', to: refused, subject: 'all refused', text: 'x' });
    await expect(failed).rejects.toMatchObject({ code: 'EENVELOPE', responseCode: 550 });
    expect(await received(plain, 'all refused')).toEqual([]);
  });

  it('takes mail after STARTTLS (trusting caFile) and AUTH, recording tls and the login name', async () => {
    const info = await client(starttls, { requireTLS: true, auth: { user, pass: password } }).sendMail({
      from: 'rebound@example.com',
      to: 'oncall@example.com',
      subject: 'over starttls',
      text: 'x',
    });
    expect(info.accepted).toEqual(['oncall@example.com']);
    expect(await received(starttls, 'over starttls')).toMatchObject([{ tls: true, auth_user: user, rcpt_tos: ['oncall@example.com'] }]);
  });

  it('refuses MAIL before STARTTLS (530), and MAIL without AUTH after it (530)', async () => {
    const beforeTls = client(starttls, { ignoreTLS: true }).sendMail({ from: 'rebound@example.com', to: 'oncall@example.com', subject: 'no tls', text: 'x' });
    await expect(beforeTls).rejects.toMatchObject({ responseCode: 530, response: expect.stringContaining('STARTTLS') });
    const noAuth = client(starttls, { requireTLS: true }).sendMail({ from: 'rebound@example.com', to: 'oncall@example.com', subject: 'no auth', text: 'x' });
    await expect(noAuth).rejects.toMatchObject({ responseCode: 530 });
    expect(await received(starttls, 'no tls')).toEqual([]);
    expect(await received(starttls, 'no auth')).toEqual([]);
  });

  it('answers a wrong password with 535 and keeps nothing', async () => {
    const wrong = client(starttls, { requireTLS: true, auth: { user, pass: 'wrong' } }).sendMail({
      from: 'rebound@example.com',
      to: 'oncall@example.com',
      subject: 'wrong password',
      text: 'x',
    });
    await expect(wrong).rejects.toMatchObject({ code: 'EAUTH', responseCode: 535 });
    expect(await received(starttls, 'wrong password')).toEqual([]);
  });

  it('speaks TLS from the first byte in implicit mode (SMTPS), with AUTH', async () => {
    const info = await client(implicit, { secure: true, auth: { user, pass: password } }).sendMail({
      from: 'rebound@example.com',
      to: 'oncall@example.com',
      subject: 'over smtps',
      text: 'x',
    });
    expect(info.accepted).toEqual(['oncall@example.com']);
    expect(await received(implicit, 'over smtps')).toMatchObject([{ tls: true, auth_user: user }]);
    // A plain client gets no banner from it: the server expects a TLS handshake first.
    const plainClient = client(implicit, { ignoreTLS: true, greetingTimeout: 1_000 }).sendMail({
      from: 'rebound@example.com',
      to: 'oncall@example.com',
      subject: 'x',
      text: 'x',
    });
    await expect(plainClient).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });
});
