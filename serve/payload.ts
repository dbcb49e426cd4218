// Parses alert bodies (Alertmanager's webhook v4, and a generic {labels, annotations, status}) into AlertInfo; the helpers every source's parser shares.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AlertInfo, AlertSource } from '../contract/trigger.ts';

/** A body that is not JSON or not the expected shape: answered 400 with this message. */
export class PayloadError extends Error {
  readonly code = 'payload';
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

/** An event a sender numbers and timestamps inside its signed body (PagerDuty's): checked for freshness and replays. */
export interface SentEvent {
  id: string;
  /** When it happened, in ms since the epoch. */
  occurredAt: number;
}

/** What a body says: its alerts; why it holds none to act on (answered 200 with that reason); which numbered event it is. */
export interface Parsed<S extends AlertSource> {
  alerts: AlertInfo<S>[];
  ignored?: string;
  event?: SentEvent;
}

export const labels = z.record(z.string(), z.string(), { error: 'expected an object of string values' });
export const status = z.enum(['firing', 'resolved']);

/** One alert as Alertmanager sends it; Grafana's contact point sends the same with more (serve/payload-grafana.ts). */
export const AlertmanagerAlert = z.object({
  status,
  labels,
  annotations: labels.optional(),
  startsAt: z.string().optional(),
  fingerprint: z.string().optional(),
});

// Not strict: Alertmanager adds fields over time (groupKey, truncatedAlerts); v4 is what it sends today.
const AlertmanagerSchema = z.object({
  version: z.literal('4', { error: 'only Alertmanager webhook version "4" is understood' }).optional(),
  status: status.optional(),
  groupLabels: labels.optional(),
  commonLabels: labels.optional(),
  commonAnnotations: labels.optional(),
  alerts: z.array(AlertmanagerAlert).min(1, 'alerts is empty'),
});

const GenericSchema = z.object({
  labels,
  annotations: labels.optional(),
  status: status.optional(),
  starts_at: z.string().optional(),
  fingerprint: z.string().optional(),
});

export function parseJson(body: Buffer): unknown {
  if (!body.length) throw new PayloadError('empty body; send a JSON object');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new PayloadError(`malformed JSON: ${(error as Error).message}`);
  }
}

export function check<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  throw new PayloadError(`invalid payload: ${issues.join('; ')}`);
}

/** Alertmanager's own fingerprint is a hash of the label set; generic senders get the same idea. */
export function fingerprintOf(set: Record<string, string>): string {
  const text = Object.keys(set)
    .sort()
    .map((k) => `${k}=${set[k]}`)
    .join('\u0000');
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

export function parseAlertmanager(body: Buffer): AlertInfo<'alertmanager'>[] {
  const payload = check(AlertmanagerSchema, parseJson(body));
  return payload.alerts.map((alert) => {
    const all = { ...payload.commonLabels, ...alert.labels };
    return {
      status: alert.status,
      labels: all,
      annotations: { ...payload.commonAnnotations, ...alert.annotations },
      starts_at: alert.startsAt ?? '',
      fingerprint: alert.fingerprint || fingerprintOf(all),
      source: 'alertmanager',
    };
  });
}

export function parseGeneric(body: Buffer): AlertInfo<'generic'>[] {
  const alert = check(GenericSchema, parseJson(body));
  return [
    {
      status: alert.status ?? 'firing',
      labels: alert.labels,
      annotations: alert.annotations ?? {},
      starts_at: alert.starts_at ?? '',
      fingerprint: alert.fingerprint || fingerprintOf(alert.labels),
      source: 'generic',
    },
  ];
}
