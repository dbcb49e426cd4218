// spec.channels: the notification channels a runbook names, checked where they are written, and put by name into a notify step's with.channels.
import { ChannelSchema, notify } from '../contract/actions/notify.ts';
import { rewriteHyphenatedNames, scanTemplate, secretPaths, secretReference } from '../contract/expression.ts';
import { checkDestinations } from './destinations.ts';
import { CompileError } from './errors.ts';
import { checkInput } from './inputs.ts';
import { issuesToErrors } from './issues.ts';
import type { ReferenceScope } from './references.ts';
import type { StepContext } from './step-context.ts';
import { didYouMean } from './suggest.ts';
import { checkTemplates } from './templates.ts';

/**
 * spec.channels by name: as written (for checking a step's input) and with templates checked
 * (for the plan); `broken` when it had errors, which are reported once, where it is written.
 */
export type Channels = ReadonlyMap<string, { raw: Record<string, unknown>; rendered: Record<string, unknown>; broken: boolean }>;

/** Fields that carry a credential: only `${{ secrets.NAME }}` is accepted there (a Slack or Teams webhook's URL is its credential). */
const CREDENTIALS: Record<string, string[]> = { slack: ['url'], teams: ['url'], pagerduty: ['routing_key'], email: ['password'], webhook: ['key'] };

/** Headers a webhook channel may not set: the request's framing and its signature are Rebound's. */
const RESERVED_HEADERS = /^(host|content-type|content-length|transfer-encoding|connection|x-rebound-signature|x-rebound-timestamp)$/i;
/** Headers whose value is a credential by its name. */
const SECRET_HEADERS = /authorization|token|key|secret|cookie|signature|password/i;

function checkHeaders(name: string, value: Record<string, unknown>, ctx: StepContext): void {
  const headers = (value.webhook as { headers?: Record<string, unknown> } | undefined)?.headers;
  for (const [header, v] of Object.entries(headers && typeof headers === 'object' ? headers : {})) {
    const at = ctx.source.locate(['spec', 'channels', name, 'webhook', 'headers', header]);
    if (RESERVED_HEADERS.test(header)) {
      ctx.errors.push(
        new CompileError('action_input', `channel "${name}": webhook.headers.${header} is set by Rebound (the body's framing or its signature); remove it`, at),
      );
    } else if (SECRET_HEADERS.test(header) && !isSecret(v)) {
      const why = `channel "${name}": webhook.headers.${header} is a credential; give it as "\${{ secrets.NAME }}" and declare NAME under spec.secrets`;
      ctx.errors.push(new CompileError('action_input', why, at));
    }
  }
}

const isSecret = (value: unknown): boolean => {
  const segments = typeof value === 'string' ? scanTemplate(value) : [];
  return segments.length === 1 && segments[0]!.kind === 'expr' && secretReference(rewriteHyphenatedNames(segments[0]!.value)) !== undefined;
};

function checkCredentials(name: string, value: Record<string, unknown>, ctx: StepContext): boolean {
  let ok = true;
  for (const [kind, fields] of Object.entries(CREDENTIALS)) {
    const inner = value[kind] as Record<string, unknown> | undefined;
    for (const field of fields) {
      if (!inner || inner[field] === undefined || isSecret(inner[field])) continue;
      ok = false;
      const why = `channel "${name}": ${kind}.${field} is a credential; give it as "\${{ secrets.NAME }}" and declare NAME under spec.secrets`;
      ctx.errors.push(new CompileError('action_input', why, ctx.source.locate(['spec', 'channels', name, kind, field])));
    }
  }
  return ok;
}

/**
 * Checks spec.channels. Templates there may read secrets only: where a message goes is fixed in
 * the runbook or in a secret, never taken from a parameter (an alert fills those in).
 */
export function compileChannels(raw: unknown, ctx: StepContext): Channels {
  const channels = new Map<string, { raw: Record<string, unknown>; rendered: Record<string, unknown>; broken: boolean }>();
  const scope: ReferenceScope = {
    params: ctx.params,
    secrets: ctx.secrets,
    all: new Set(),
    allowSecrets: true,
    visible: () => false,
    outputs: () => undefined,
    roots: new Set(['secrets']),
  };
  for (const [name, value] of Object.entries(raw && typeof raw === 'object' ? raw : {})) {
    const path = ['spec', 'channels', name];
    const before = ctx.errors.length;
    const issues = checkInput(ChannelSchema, value);
    ctx.errors.push(...issuesToErrors(ctx.source, issues, path, 'schema', `channel "${name}"`, ChannelSchema));
    const rendered = checkTemplates(value, path, scope, ctx, `channel "${name}"`) as Record<string, unknown>;
    if (value && typeof value === 'object') {
      checkCredentials(name, value as Record<string, unknown>, ctx);
      checkHeaders(name, value as Record<string, unknown>, ctx);
    }
    // A channel already refused would only be refused again for where its secrets go.
    if (ctx.errors.length === before) {
      checkDestinations(notify, { channels: { [name]: value } }, ctx, `channel "${name}"`, 'spec.', (field) =>
        ctx.source.locate(['spec', ...field.split('.')]),
      );
    }
    channels.set(name, { raw: value as Record<string, unknown>, rendered, broken: ctx.errors.length !== before });
  }
  return channels;
}

/** A notify step's `with:`: what the compiler checks against the action's input, and the plan's (from the checked templates). */
export interface NotifyInput {
  check: Record<string, unknown>;
  plan(rendered: Record<string, unknown>): Record<string, unknown>;
  /** A named channel is broken (already reported): the step's own check of channels would only repeat it. */
  broken: boolean;
}

/**
 * Each name in a notify step's `channels` replaced by that channel (with its name), and
 * `drill` set from the plan's mode. Secrets belong in channels: one in the message, title or
 * fields would be sent to people, so it is refused.
 */
export function notifyInput(
  /** How messages name the place: `step "tell" (notify) with.` or `spec.notify.failed.`. */
  what: string,
  withPath: (string | number)[],
  value: Record<string, unknown>,
  ctx: StepContext,
  namesPath: (string | number)[] = [...withPath, 'channels'],
): NotifyInput {
  for (const at of secretPaths({ ...value, channels: [] })) {
    const why = `${what}${at.join('.')}: a secret here would be sent to people; secrets belong in spec.channels`;
    ctx.errors.push(new CompileError('secret_destination', why, ctx.source.locate([...withPath, ...at])));
  }
  const names = (Array.isArray(value.channels) ? value.channels : []).filter((n, i) => {
    if (typeof n === 'string' && ctx.channels.has(n)) return true;
    const why = `${what}channels: no channel ${JSON.stringify(n)} in spec.channels${typeof n === 'string' ? didYouMean(n, ctx.channels.keys()) : ''}`;
    ctx.errors.push(new CompileError('action_input', why, ctx.source.locate([...namesPath, i])));
    return false;
  }) as string[];
  const expand = (part: 'raw' | 'rendered', base: Record<string, unknown>): Record<string, unknown> => ({
    ...base,
    ...(Array.isArray(value.channels) ? { channels: names.map((name) => ({ name, ...ctx.channels.get(name)![part] })) } : {}),
    drill: ctx.mode === 'drill',
  });
  return {
    check: expand('raw', value),
    plan: (rendered) => expand('rendered', rendered),
    broken: names.some((n) => ctx.channels.get(n)!.broken) || names.length !== (Array.isArray(value.channels) ? value.channels.length : 0),
  };
}
