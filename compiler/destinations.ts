// Compile-time rule for where secrets go: a secret sent to a destination computed at run time must list its hosts; fixed destinations are recorded as the secret's hosts, which the worker enforces.
import { destinationOf, fieldOf, hostAllowed, hostOf } from '../contract/destinations.ts';
import { hasTemplate, rewriteHyphenatedNames, scanTemplate, secretPaths, secretReference } from '../contract/expression.ts';
import type { ActionSpec } from '../contract/action.ts';
import { CompileError, type Location } from './errors.ts';
import type { ParsedStep, StepContext } from './step-context.ts';

const secretsIn = (text: string): string[] =>
  scanTemplate(text)
    .flatMap((s) => (s.kind === 'expr' ? [secretReference(rewriteHyphenatedNames(s.value))] : []))
    .filter((n): n is string => !!n);

/** Checks each secret this step sends somewhere, and notes the fixed hosts it goes to. */
export function checkSecretDestinations({ doc, path, spec }: ParsedStep, merged: Record<string, unknown>, ctx: StepContext): void {
  if (!spec) return;
  checkDestinations(spec, merged, ctx, `step "${doc.id}" (${spec.name})`, 'with.', (field) => ctx.source.locate([...path, 'with', ...field.split('.')]));
}

/**
 * The rule itself, for any value an action receives: a step's `with:`, or a channel of
 * spec.channels (`what` names it in messages, `at` locates a destination field).
 */
export function checkDestinations(
  spec: ActionSpec,
  merged: Record<string, unknown>,
  ctx: StepContext,
  what: string,
  prefix: string,
  at: (field: string) => Location,
): void {
  for (const secretAt of secretPaths(merged)) {
    const field = destinationOf(spec, secretAt);
    const destination = field ? fieldOf(merged, field) : undefined;
    // No destination field (the action's own default endpoint), or the secret is the destination.
    if (typeof destination !== 'string' || secretsIn(destination).length) continue;
    const host = hasTemplate(destination) ? undefined : hostOf(destination);
    for (const name of secretsIn(String(fieldOf(merged, secretAt.join('.')) ?? ''))) {
      const hosts = ctx.secretHosts.get(name);
      if (!hosts) continue; // an unknown secret is reported by the reference check
      const located = at(field!);
      if (host === undefined && !hosts.declared) {
        const why = `${what} sends secret "${name}" to ${prefix}${field}, which is computed at run time; declare the hosts it may go to (spec.secrets.${name}.hosts: [api.example.org]) or fix the destination in the runbook`;
        ctx.errors.push(new CompileError('secret_destination', why, located));
      } else if (host !== undefined && hosts.declared && !hostAllowed(host, hosts.declared)) {
        const why = `${what} sends secret "${name}" to ${host}, which is not in its hosts (${hosts.declared.join(', ')})`;
        ctx.errors.push(new CompileError('secret_destination', why, located));
      } else if (host !== undefined) hosts.fixed.add(host);
    }
  }
}
