// `rebound notify test FILE [CHANNEL…]`: a test message through a runbook's channels, sent from here with secrets from this environment; exit 1 naming each channel that failed and why.
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { kindOf, NamedChannelSchema } from '../contract/actions/notify.ts';
import { renderValue, secretPaths } from '../contract/expression.ts';
import { compileFile, type Plan } from '../compiler/index.ts';
import { messageOf } from '../activities/notify/message.ts';
import { sendOne } from '../activities/notify/notify.ts';
import { mask, resolveSecrets } from '../activities/runtime/secrets.ts';
import { CommandFailed, UsageError } from './errors.ts';
import { loadPlan } from './load.ts';
import { table } from './table.ts';

/** The channels to test: those named, or every one the runbook declares. */
function chosen(declared: Record<string, Record<string, unknown>>, names: string[], file: string): string[] {
  if (!Object.keys(declared).length) throw new UsageError(`${file} declares no spec.channels`);
  const unknown = names.filter((n) => !(n in declared));
  if (unknown.length) throw new UsageError(`${file} has no channel ${unknown.join(', ')}; it has ${Object.keys(declared).join(', ')}`);
  return names.length ? names : Object.keys(declared);
}

/** One channel, as the notify action would send: its templates filled in, its secrets read here. PagerDuty's test incident is resolved at once. */
async function test(plan: Plan, name: string, written: Record<string, unknown>, seen: Set<string>): Promise<string> {
  const runId = `notify-test-${Date.now()}`;
  const rendered = renderValue(written, { params: {}, run: { id: runId, mode: 'run', runbook: plan.name, started_at: new Date().toISOString() }, steps: {} });
  const { value } = await resolveSecrets(rendered, plan.secrets, seen, secretPaths(rendered));
  const channel = NamedChannelSchema.parse({ name, ...(value as object) });
  const input = {
    title: `Rebound test message (${plan.name})`,
    message: `A test of channel "${name}" of runbook ${plan.name}, sent by rebound notify test from ${hostname()}. Nothing needs doing.`,
    severity: 'info' as const,
    event: 'trigger' as const,
    dedup_key: `rebound:test:${plan.name}:${name}`,
    fields: { channel: name },
    timeout: '10s',
    drill: false,
    attach_report: false,
    channels: [],
  };
  const ctx = { signal: AbortSignal.timeout(60_000), runId, runbook: plan.name, mask: (t: string) => mask(t, seen) };
  const status = await sendOne(channel, messageOf(input, ctx), '10s', false, ctx);
  if (kindOf(channel) === 'pagerduty') await sendOne(channel, messageOf({ ...input, event: 'resolve' }, ctx), '10s', false, ctx);
  return status;
}

export async function notifyTestCommand(file: string, names: string[]): Promise<void> {
  const plan = loadPlan(file, 'run');
  const declared = compileFile(file).channels ?? {};
  const rows = [['CHANNEL', 'KIND', 'RESULT']];
  const failed: string[] = [];
  const seen = new Set<string>();
  for (const name of chosen(declared, names, file)) {
    const kind = Object.keys(declared[name]!)[0] ?? '';
    try {
      rows.push([name, kind, `sent (${await test(plan, name, declared[name]!, seen)})`]);
    } catch (error) {
      const why = mask(error instanceof Error ? error.message : String(error), seen);
      rows.push([name, kind, `FAILED: ${why}`]);
      failed.push(`${name}: ${why}`);
    }
  }
  console.log(table(rows));
  if (failed.length) throw new CommandFailed(`${failed.length} channel(s) failed: ${failed.join('; ')}`);
}

export function registerNotify(cli: Command): void {
  cli
    .command('notify')
    .description('notification channels (spec.channels): `notify test` checks them')
    .command('test')
    .argument('<file>', 'a runbook that declares spec.channels')
    .argument('[channels...]', 'the channels to test (default: all)')
    .description(
      'send a test message through a runbook’s channels from here (secrets from this environment); a PagerDuty channel gets a test incident (severity info) that is resolved at once. Exit 1 naming each channel that failed',
    )
    .action(async (file: string, names: string[]) => notifyTestCommand(file, names));
}
