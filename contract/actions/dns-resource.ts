// What a dns.switch changes, as a resource key: one record set of one provider's zone (and one routing-policy set of it, by set_identifier).
/** Lower case with the trailing dot, as both providers spell names (dns.ts's fqdn, restated: that file imports this one). */
const absolute = (name: string): string => (name.toLowerCase().endsWith('.') ? name.toLowerCase() : `${name.toLowerCase()}.`);

/** `<provider> <zone> <name> <type>`, plus ` <set_identifier>` for one record of a Route 53 routing policy; undefined before the fields are known. */
export function dnsResource(input: Record<string, unknown>): string | undefined {
  const { provider, zone, name, type, set_identifier: set } = input;
  if (![provider, zone, name, type].every((v) => typeof v === 'string')) return undefined;
  const key = `${String(provider)} ${absolute(String(zone))} ${absolute(String(name))} ${String(type)}`;
  return typeof set === 'string' && set ? `${key} ${set}` : key;
}
