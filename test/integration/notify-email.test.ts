// The notify action's e-mail channel against a real SMTP server on loopback (aiosmtpd): STARTTLS and implicit TLS, AUTH, the text and HTML parts, the attached report, a wrong password, a refused recipient, an untrusted certificate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifyImpl } from '../../activities/notify/notify.ts';
import { useReportSource } from '../../activities/notify/report.ts';
import { startSmtp, type SmtpServer } from '../../stack/smtp.ts';
import { stepRunner } from '../helpers/activity.ts';
import { failureOf } from '../helpers/failure.ts';

const user = 'rebound';
const password = 'smtp-password-that-must-not-leak';
const refused = 'gone@example.net';

let starttls: SmtpServer;
let implicit: SmtpServer;
beforeAll(async () => {
  [starttls, implicit] = await Promise.all([
    startSmtp({ tls: 'starttls', auth: { user, password }, refuse: [refused] }),
    startSmtp({ tls: 'implicit', auth: { user, password } }),
  ]);
  process.env.TEST_SMTP_PASSWORD = password;
  process.env.TEST_SMTP_WRONG = 'not-the-password';
  useReportSource(async (runId) => `# Report of ${runId}\n\nRTO 4m 12s (objective 15m)\n`);
});
afterAll(() => Promise.all([starttls?.stop(), implicit?.stop()]));

const steps = stepRunner({
  runbook: 'orders-failover',
  runId: 'run-mail',
  step: 'mail',
  secrets: { smtp: { env: 'TEST_SMTP_PASSWORD' }, wrong: { env: 'TEST_SMTP_WRONG' } },
});

const channel = (server: SmtpServer, extra: Record<string, unknown> = {}) => ({
  name: 'dba',
  email: {
    host: server.host,
    port: server.port,
    tls: server === implicit ? 'implicit' : 'starttls',
    ca_file: server.caFile,
    user,
    password: { $secret: 'smtp' },
    from: 'rebound@example.org',
    to: ['dba@example.org'],
    ...extra,
  },
});

/** The message whose Subject holds `marker` (cases share servers). */
async function mailWith(server: SmtpServer, marker: string) {
  const found = (await server.messages()).filter((m) => m.data.includes(marker));
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('notify by e-mail', () => {
  it('sends over STARTTLS with AUTH: headers, a text and an HTML part, the report attached, a drill marked', async () => {
    const result = await steps.run(notifyImpl, {
      channels: [channel(starttls)],
      title: 'failover m1 done',
      message: 'orders runs on <dr> now',
      severity: 'warning',
      attach_report: true,
      drill: true,
    });
    expect(result.outputs).toMatchObject({ sent: [{ channel: 'dba', kind: 'email', status: 'accepted by 1 recipient(s)' }] });
    const mail = await mailWith(starttls, 'failover m1 done');
    expect(mail).toMatchObject({ tls: true, auth_user: user, mail_from: 'rebound@example.org', rcpt_tos: ['dba@example.org'] });
    expect(mail.data).toMatch(/^Subject: \[warning\] \[DRILL\] failover m1 done\r$/m);
    expect(mail.data).toMatch(/^X-Rebound-Run: run-mail\r$/m);
    expect(mail.data).toMatch(/^X-Rebound-Drill: true\r$/m);
    expect(mail.data).toMatch(/Content-Type: text\/plain/);
    expect(mail.data).toMatch(/Content-Type: text\/html/);
    // The HTML part escapes what the runbook wrote.
    expect(mail.data).toContain('&#60;dr&#62;');
    expect(mail.data).toMatch(/Content-Disposition: attachment; filename=run-mail-report\.md/);
    expect(JSON.stringify(result)).not.toContain(password);
  });

  it('sends over implicit TLS', async () => {
    await steps.run(notifyImpl, { channels: [channel(implicit)], title: 'implicit m2', message: 'x' });
    expect(await mailWith(implicit, 'implicit m2')).toMatchObject({ tls: true, auth_user: user });
  });

  it('a wrong password is final (auth_failed), and neither password is in the message', async () => {
    const failure = await failureOf(steps.run(notifyImpl, { channels: [channel(starttls, { password: { $secret: 'wrong' } })], message: 'x' }));
    expect([failure.type, failure.nonRetryable]).toEqual(['auth_failed', true]);
    expect(failure.message).toMatch(/channel "dba" \(email\): .*535/);
    expect(failure.message).not.toContain('not-the-password');
  });

  it('a refused recipient is final and named; the others still get the message', async () => {
    const failure = await failureOf(
      steps.run(notifyImpl, { channels: [channel(starttls, { to: ['dba@example.org', refused] })], title: 'refused m3', message: 'x' }),
    );
    expect([failure.type, failure.nonRetryable]).toEqual(['rejected', true]);
    expect(failure.message).toContain(refused);
    expect((await mailWith(starttls, 'refused m3')).rcpt_tos).toEqual(['dba@example.org']);
  });

  it('an untrusted certificate is final and says to give ca_file; no password goes without TLS', async () => {
    const untrusted = channel(starttls);
    delete (untrusted.email as { ca_file?: string }).ca_file;
    const failure = await failureOf(steps.run(notifyImpl, { channels: [untrusted], message: 'x' }));
    expect([failure.type, failure.nonRetryable]).toEqual(['rejected', true]);
    expect(failure.message).toMatch(/not trusted; give ca_file/);
    const plain = await failureOf(steps.run(notifyImpl, { channels: [channel(starttls, { tls: 'none' })], message: 'x' }));
    expect([plain.type, plain.message]).toEqual(['invalid_input', expect.stringMatching(/a password is never sent without TLS/)]);
  });
});
