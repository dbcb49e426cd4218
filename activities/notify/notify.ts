// The notify action: one message to each named channel; a retry skips the channels an earlier attempt reached, and a failure names each channel that failed and why.
import { notify as spec, kindOf, type NamedChannel } from '../../contract/actions/notify.ts';
import { parseDuration } from '../../contract/duration.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl, type ActionContext } from '../runtime/wrap.ts';
import { sendEmail } from './email.ts';
import { messageOf, type Message } from './message.ts';
import { sendPagerDuty } from './pagerduty.ts';
import { reportOf } from './report.ts';
import { sendSlack } from './slack.ts';
import { sendTeams } from './teams.ts';
import { sendWebhook } from './webhook.ts';

interface Sent {
  channel: string;
  kind: string;
  status: string;
}

/** What the heartbeat carries between attempts: the channels already reached, and those that refused for good (not asked again). */
interface Progress {
  sent: Sent[];
  refused: Array<{ channel: string; code: ActionError['code']; message: string }>;
}

/** Sends `m` to one channel; also what `rebound notify test` sends through, outside any run. */
export async function sendOne(
  channel: NamedChannel,
  m: Message,
  timeout: string,
  attachReport: boolean,
  ctx: Pick<ActionContext, 'signal' | 'runId'>,
): Promise<string> {
  const where = `channel "${channel.name}" (${kindOf(channel)})`;
  const options = { timeout, where, signal: ctx.signal };
  if (channel.slack) return sendSlack(channel.slack, m, options);
  if (channel.teams) return sendTeams(channel.teams, m, options);
  if (channel.pagerduty) return sendPagerDuty(channel.pagerduty, m, options);
  if (channel.webhook) return sendWebhook(channel.webhook, m, options);
  if (!channel.email) throw new ActionError('invalid_input', `${where}: no channel kind`, { retryable: false });
  const report = attachReport ? () => reportOf(ctx.runId) : undefined;
  return sendEmail(channel.email, m, { timeoutMs: parseDuration(timeout) ?? 10_000, where, signal: ctx.signal, ...(report ? { report } : {}) });
}

function previously(ctx: ActionContext): Progress {
  const last = ctx.lastProgress as Partial<Progress> | undefined;
  return { sent: Array.isArray(last?.sent) ? last.sent : [], refused: Array.isArray(last?.refused) ? last.refused : [] };
}

export const notifyImpl = defineImpl({
  spec,
  async run(input, ctx) {
    const m = messageOf(input, ctx);
    const { sent, refused } = previously(ctx);
    const failed = refused.map((r) => new ActionError(r.code, r.message, { retryable: false }));
    // One at a time, each recorded as it is reached: a worker that dies mid-way resends none of them.
    for (const channel of input.channels) {
      if (sent.some((s) => s.channel === channel.name) || refused.some((r) => r.channel === channel.name)) continue;
      try {
        const status = await sendOne(channel, m, input.timeout, input.attach_report, ctx);
        sent.push({ channel: channel.name, kind: kindOf(channel)!, status });
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        const failure = error instanceof ActionError ? error : new ActionError('unexpected', `channel "${channel.name}": ${(error as Error).message}`);
        failed.push(failure);
        if (!failure.retryable) refused.push({ channel: channel.name, code: failure.code, message: ctx.mask(failure.message) });
      }
      ctx.heartbeat({ sent, refused } satisfies Progress);
    }
    if (failed.length) throw combined(failed, sent);
    return { sent, dedup_key: m.dedup_key };
  },
});

/** One failure for several channels: retried when any of them may still get through, waiting as long as the longest Retry-After. */
function combined(failed: ActionError[], sent: Sent[]): ActionError {
  const retryable = failed.some((f) => f.retryable);
  const waits = failed.flatMap((f) => (f.retryAfterMs !== undefined ? [f.retryAfterMs] : []));
  const reached = sent.length ? `; reached ${sent.map((s) => s.channel).join(', ')}` : '';
  const first = failed.find((f) => f.retryable) ?? failed[0]!;
  return new ActionError(first.code, `${failed.map((f) => f.message).join('; ')}${reached}`, {
    retryable,
    ...(waits.length ? { retryAfterMs: Math.max(...waits) } : {}),
  });
}
