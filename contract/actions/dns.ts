// The `dns.switch` action's contract: point a DNS record at new values (PowerDNS or Route 53), guarded and revertible.
import { z } from 'zod';
import { defineAction } from '../action.ts';
import { DURATION_PATTERN } from '../duration.ts';
import { defineIntegrationSpec } from '../integration.ts';
import { dnsResource } from './dns-resource.ts';
import { checkPolicy, EVEN_WITH_ISSUES, FAILOVER_ROLES, policyFields, Route53Schema, route53HealthCheck } from './dns-route53.ts';

/** Route 53's connection block, for actions built on dns.switch (traffic.shift). */
export { Route53Schema };

const LABEL = '[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?';
/** An absolute DNS name; the trailing dot is optional here and added before use. */
export const DnsName = z
  .string()
  .max(254)
  .regex(new RegExp(`^(\\*\\.)?(${LABEL}\\.)*${LABEL}\\.?$`, 'i'), 'a DNS name such as orders.example.org.');

/** Lower case with the trailing dot: how both providers spell names, so comparisons are exact. */
export function fqdn(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

const PowerDnsSchema = z.strictObject({
  api_url: z.url({ protocol: /^https?$/ }).describe('the HTTP API, e.g. http://pdns.internal:8081'),
  api_key: z.string().min(1).describe('X-API-Key, from a secret'),
  server_id: z.string().min(1).default('localhost'),
  resolver: z
    .string()
    .regex(/^(\[[0-9a-f:.]+\]|[^\s:[\]]+):\d{1,5}$/i, 'host:port of the authoritative DNS server')
    .optional()
    .describe("where the change is verified by a query (default: api_url's host, port 53)"),
});

/** A record's values and TTL; a Route 53 routing-policy record also its identifier, policy and health check. */
export const RecordSetSchema = z.object({
  values: z.array(z.string()),
  ttl: z.number(),
  set_identifier: z.string().optional(),
  weight: z.number().optional(),
  failover: z.enum(FAILOVER_ROLES).optional(),
  region: z.string().optional(),
  health_check_id: z.string().optional(),
});
export type RecordSet = z.infer<typeof RecordSetSchema>;

/** Checks that depend on more than one field: values of the record's type, a name inside the zone, the provider's block. */
function checkSwitch(
  input: {
    provider: string;
    zone: string;
    name: string;
    type: string;
    values?: string[];
    set_identifier?: string;
    powerdns?: unknown;
    route53?: { access_key?: string; secret_key?: string };
  },
  ctx: z.RefinementCtx,
): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  // Required unless a policy record's set_identifier is given; missing, it is the one issue, as zod reports a missing required field.
  if (input.values === undefined && input.set_identifier === undefined) return issue(['values'], 'missing required field "values" (expected array)');
  (input.values ?? []).forEach((value, i) => {
    const ok =
      input.type === 'A' ? z.ipv4().safeParse(value).success : input.type === 'AAAA' ? z.ipv6().safeParse(value).success : DnsName.safeParse(value).success;
    if (!ok) issue(['values', i], `not ${input.type === 'CNAME' ? 'a DNS name' : `an ${input.type === 'A' ? 'IPv4' : 'IPv6'} address`}: ${value}`);
  });
  if (input.type === 'CNAME' && input.values && input.values.length !== 1) issue(['values'], 'a CNAME has exactly one value');
  const zone = fqdn(input.zone);
  const name = fqdn(input.name);
  if (name !== zone && !name.endsWith(`.${zone}`)) issue(['name'], `${name} is not inside the zone ${zone}`);
  if (input.type === 'CNAME' && name === zone) issue(['name'], 'a CNAME cannot sit at the zone apex');
  if (input.provider === 'powerdns' && !input.powerdns) issue(['powerdns'], 'provider powerdns needs powerdns: {api_url, api_key}');
  if (input.provider === 'powerdns' && input.route53) issue(['route53'], 'given, but the provider is powerdns');
  if (input.provider === 'route53' && input.powerdns) issue(['powerdns'], 'given, but the provider is route53');
  if (!!input.route53?.access_key !== !!input.route53?.secret_key) issue(['route53'], 'access_key and secret_key go together');
}

/**
 * Moves a record (a service's name) to new values — the traffic switch of a failover.
 * Production impact: a drill runs it as a preflight with the real credentials instead.
 */
export const dnsSwitch = defineAction({
  name: 'dns.switch',
  summary: 'Point a DNS record at new values (PowerDNS, Route 53); production impact: a preflight in drills',
  kind: 'activity',
  backend: 'dns',
  impact: 'production',
  simulates: true,
  resource: dnsResource,
  secret_inputs: ['powerdns.api_key', 'route53.access_key', 'route53.secret_key'],
  secret_destinations: { 'powerdns.api_key': 'powerdns.api_url', route53: 'route53.endpoint' },
  input: z
    .strictObject({
      provider: z.enum(['powerdns', 'route53']),
      zone: DnsName.describe('the zone holding the record, e.g. example.org.'),
      name: DnsName.describe('the record, e.g. orders.example.org.'),
      type: z.enum(['A', 'AAAA', 'CNAME']),
      values: z.array(z.string()).min(1).optional().describe("required, but with set_identifier: absent keeps the record's values"),
      ttl: z.number().int().min(0).max(2_147_483_647).optional().describe("seconds (default 60; with set_identifier, the record's own TTL)"),
      ...policyFields,
      expect_current: z
        .union([
          z.array(z.string()),
          z.strictObject({ values: z.array(z.string()).optional(), ttl: z.number().int().min(0).optional(), weight: z.number().int().min(0).optional() }),
        ])
        .optional()
        .describe(
          'refuse to switch unless the record holds exactly these values ([] = the record must not exist); {values, ttl, weight}: only the fields given, on a record that exists',
        ),
      powerdns: PowerDnsSchema.optional(),
      route53: Route53Schema.optional(),
      verify_timeout: z.string().regex(DURATION_PATTERN, 'a duration such as 60s').default('60s'),
    })
    .superRefine(checkSwitch)
    .superRefine((input, ctx) => checkPolicy(input, (path, message) => ctx.addIssue({ code: 'custom', path, message })), EVEN_WITH_ISSUES),
  output: z.object({
    provider: z.enum(['powerdns', 'route53']),
    name: z.string(),
    type: z.string(),
    /** null: the record did not exist before. */
    previous: RecordSetSchema.nullable(),
    /** What the record holds now (in a simulation: what it would hold). */
    current: RecordSetSchema,
    changed: z.boolean(),
    /** When resolvers that cached the old answer have all expired it: the switch time plus the old TTL. */
    converged_by: z.string(),
    simulated: z.boolean(),
    /** In a simulation: what the preflight proved, and the change it would make. */
    preflight: z.array(z.string()).optional(),
  }),
  /**
   * Failback puts back the values and TTL the run found (and a policy record's weight,
   * failover role, region and health check), guarded by the values, TTL and weight it set (a
   * TTL changed since is a change someone made, which the failback must not undo). A record
   * the run created (previous null) is not deleted automatically — dns.switch only sets
   * values — so failback lists it as manual work; the same when nothing changed.
   */
  revert(input, outputs) {
    const previous = outputs.previous as RecordSet | null | undefined;
    const current = outputs.current as RecordSet | undefined;
    if (outputs.changed !== true || outputs.simulated === true || !previous || !current) return undefined;
    const { expect_current: _e, weight: _w, failover: _f, region: _r, health_check_id: _h, set_identifier: _s, ...rest } = input;
    const guard = { values: current.values, ttl: current.ttl, ...(current.weight !== undefined ? { weight: current.weight } : {}) };
    return { ...rest, values: previous.values, ttl: previous.ttl, ...policyOf(previous), expect_current: guard };
  },
});

/** The `with:` fields that set a routing-policy record back as it was: '' takes off a health check it did not have. */
function policyOf(set: RecordSet): Record<string, unknown> {
  if (set.set_identifier === undefined) return {};
  const policy = Object.fromEntries((['weight', 'failover', 'region'] as const).filter((f) => set[f] !== undefined).map((f) => [f, set[f]]));
  return { set_identifier: set.set_identifier, ...policy, health_check_id: set.health_check_id ?? '' };
}

/** The DNS integration (PowerDNS, Route 53); it writes no restore points. */
export const spec = defineIntegrationSpec({
  name: 'dns',
  actions: [dnsSwitch, route53HealthCheck],
});
