// The worker's half of "secrets stay where the runbook sends them": before an action connects, each secret's destination host must be on the secret's signed host list.
import type { ActionSpec } from '../../contract/action.ts';
import { destinationOf, fieldOf, hostAllowed, hostOf } from '../../contract/destinations.ts';
import type { ActionInput } from '../../contract/run.ts';
import { ActionError } from './errors.ts';

/** The secret names a reference (or an interpolation) holds. */
function namesIn(value: unknown): string[] {
  if (!value || typeof value !== 'object') return [];
  if ('$secret' in value) return [String((value as { $secret: unknown }).$secret)];
  if ('$interpolate' in value && Array.isArray(value.$interpolate)) return value.$interpolate.flatMap(namesIn);
  return [];
}

/** Throws, not retryable, when a secret would go to a host its list does not name. */
export function refuseForeignHosts(spec: ActionSpec, input: ActionInput, parsed: unknown): void {
  const paths = input.secret_paths ?? [];
  const isSecret = new Set(paths.map((p) => p.join('.')));
  for (const at of paths) {
    const field = destinationOf(spec, at);
    // A destination that is itself a secret (a webhook URL) was fixed by whoever wrote the secret.
    if (!field || isSecret.has(field)) continue;
    const host = hostOf(fieldOf(parsed, field));
    if (!host) continue;
    for (const name of namesIn(fieldOf(input.with, at.join('.')))) {
      const hosts = input.secrets[name]?.hosts;
      if (hosts && !hostAllowed(host, hosts)) {
        throw new ActionError('untrusted', `secret "${name}" may go only to ${hosts.join(', ')}; with.${field} points at ${host}, so nothing was sent`, {
          retryable: false,
        });
      }
    }
  }
}
