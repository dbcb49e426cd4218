// Amazon Route 53 (or moto) through @aws-sdk/client-route-53: list record sets, UPSERT, then GetChange until INSYNC.
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandOutput,
  type ResourceRecordSet,
  type RRType,
} from '@aws-sdk/client-route-53';
import { fqdn } from '../../contract/actions/dns.ts';
import { ActionError } from '../runtime/errors.ts';
import { pollUntil, type DnsProvider, type RecordSet, type Target } from './records.ts';
import { route53Client, type Route53Config } from './route53-client.ts';

export type { Route53Config };

/** Route 53 spells some characters of names in octal escapes (`\052` for `*`). */
const decodeName = (name: string): string => fqdn(name.replace(/\\(\d{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8))));

/** A record of another type than the target's, for the CNAME rule: what it is, in one line. */
function summary(record: ResourceRecordSet): RecordSet {
  if (record.AliasTarget) return { values: [`ALIAS ${record.AliasTarget.DNSName}`], ttl: record.TTL ?? 0 };
  if (record.SetIdentifier) return { values: [`set ${record.SetIdentifier}`], ttl: record.TTL ?? 0 };
  return toSet(record);
}

function toSet(record: ResourceRecordSet): RecordSet {
  const set: RecordSet = { values: (record.ResourceRecords ?? []).map((r) => r.Value ?? ''), ttl: record.TTL ?? 0 };
  if (record.SetIdentifier === undefined) return set;
  set.set_identifier = record.SetIdentifier;
  if (record.Weight !== undefined) set.weight = record.Weight;
  if (record.Failover) set.failover = record.Failover;
  if (record.Region) set.region = record.Region;
  if (record.HealthCheckId) set.health_check_id = record.HealthCheckId;
  return set;
}

/** The set of the target's type that the target names: the simple one, or the routing-policy record of its set_identifier. */
function targetSet(records: ResourceRecordSet[], target: Target): RecordSet | undefined {
  const label = `${target.name} ${target.type}`;
  const alias = records.find((r) => r.AliasTarget);
  if (alias) throw new ActionError('unsupported', `${label} is an alias record; dns.switch only replaces records that hold values`, { retryable: false });
  const policy = records.filter((r) => r.SetIdentifier !== undefined);
  const simple = records.find((r) => r.SetIdentifier === undefined);
  if (target.set_identifier === undefined) {
    if (policy.length > 0) {
      const sets = policy.map((r) => `"${r.SetIdentifier}"`).join(', ');
      throw new ActionError(
        'invalid_input',
        `${label} is a routing-policy record (sets ${sets}); dns.switch replaces a simple record, or one of these when given its set_identifier`,
        { retryable: false },
      );
    }
    return simple && toSet(simple);
  }
  if (simple) {
    throw new ActionError(
      'conflict',
      `${label} is a simple record; set_identifier "${target.set_identifier}" names a routing-policy record, and Route 53 keeps no such record beside a simple one`,
      { retryable: false },
    );
  }
  const found = policy.find((r) => r.SetIdentifier === target.set_identifier);
  return found && toSet(found);
}

/** What an UPSERT writes: the whole record set, so a policy field left out (a health check) is taken off. */
function recordOf(target: Target, set: RecordSet): ResourceRecordSet {
  const record: ResourceRecordSet = { Name: target.name, Type: target.type, TTL: set.ttl, ResourceRecords: set.values.map((Value) => ({ Value })) };
  if (set.set_identifier === undefined) return record;
  return {
    ...record,
    SetIdentifier: set.set_identifier,
    ...(set.weight !== undefined ? { Weight: set.weight } : {}),
    ...(set.failover ? { Failover: set.failover } : {}),
    ...(set.region ? { Region: set.region as ResourceRecordSet['Region'] } : {}),
    ...(set.health_check_id ? { HealthCheckId: set.health_check_id } : {}),
  };
}

export function route53Provider(config: Route53Config, signal: AbortSignal): DnsProvider {
  const { client, send } = route53Client(config, signal);
  let zoneId: string | undefined;

  /** The hosted zone's id: given (and checked to be this zone), else found by name — refusing when two zones share it. */
  async function findZone(zone: string): Promise<string> {
    if (zoneId) return zoneId;
    if (config.hosted_zone_id) {
      const id = config.hosted_zone_id.replace(/^\/hostedzone\//, '');
      const found = await send(`reading hosted zone ${id}`, (options) => client.send(new GetHostedZoneCommand({ Id: id }), options));
      const name = decodeName(found.HostedZone?.Name ?? '');
      if (name !== zone) throw new ActionError('invalid_input', `hosted zone ${id} is ${name}, not ${zone}`, { retryable: false });
      return (zoneId = id);
    }
    const listed = await send(`looking up zone ${zone}`, (options) => client.send(new ListHostedZonesByNameCommand({ DNSName: zone, MaxItems: 10 }), options));
    const matches = (listed.HostedZones ?? []).filter((z) => decodeName(z.Name ?? '') === zone);
    if (matches.length === 0) throw new ActionError('not_found', `no hosted zone named ${zone} in this account`, { retryable: false });
    if (matches.length > 1)
      throw new ActionError('invalid_input', `${matches.length} hosted zones are named ${zone} (public and private?); give route53.hosted_zone_id`, {
        retryable: false,
      });
    return (zoneId = matches[0]!.Id!.replace(/^\/hostedzone\//, ''));
  }

  async function listAt(id: string, target: Target): Promise<ResourceRecordSet[]> {
    const out: ResourceRecordSet[] = [];
    let start: string | undefined = target.name;
    let startType: RRType | undefined;
    while (start) {
      const request = new ListResourceRecordSetsCommand({ HostedZoneId: id, StartRecordName: start, StartRecordType: startType, MaxItems: 100 });
      const page: ListResourceRecordSetsCommandOutput = await send(`reading ${target.name}`, (options) => client.send(request, options));
      const here = (page.ResourceRecordSets ?? []).filter((r) => decodeName(r.Name ?? '') === target.name);
      out.push(...here);
      // Sets are sorted by name: once a page reaches another name, this one is complete.
      const more = page.IsTruncated && here.length === (page.ResourceRecordSets ?? []).length && decodeName(page.NextRecordName ?? '') === target.name;
      start = more ? page.NextRecordName : undefined;
      startType = more ? page.NextRecordType : undefined;
    }
    return out;
  }

  return {
    async read(target) {
      const id = await findZone(target.zone);
      const records = await listAt(id, target);
      const sets = new Map<string, RecordSet>();
      for (const record of records) if (record.Type !== target.type) sets.set(record.Type!, summary(record));
      const ofType = records.filter((r) => r.Type === target.type);
      const found = targetSet(ofType, target);
      if (found) sets.set(target.type, found);
      const identifiers = ofType.flatMap((r) => (r.SetIdentifier === undefined ? [] : [r.SetIdentifier]));
      return { zone: `hosted zone ${id} (${target.zone}) on Route 53${config.endpoint ? ` at ${config.endpoint}` : ''}`, sets, identifiers };
    },
    async write(target, set, wait) {
      const id = await findZone(target.zone);
      const changed = await send(`setting ${target.name} ${target.type}${target.set_identifier ? ` set "${target.set_identifier}"` : ''}`, (options) =>
        client.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: id,
            ChangeBatch: {
              Comment: 'rebound dns.switch',
              Changes: [
                {
                  Action: 'UPSERT',
                  ResourceRecordSet: recordOf(target, set),
                },
              ],
            },
          }),
          options,
        ),
      );
      const change = changed.ChangeInfo?.Id ?? '';
      let status: string = changed.ChangeInfo?.Status ?? 'PENDING';
      // INSYNC: every Route 53 authoritative server answers the new values.
      const ok =
        status === 'INSYNC' ||
        (await pollUntil(
          wait,
          async () => {
            const got = await send(`checking change ${change}`, (options) => client.send(new GetChangeCommand({ Id: change }), options));
            status = got.ChangeInfo?.Status ?? status;
            wait.heartbeat({ phase: 'verify', change, status });
            return status === 'INSYNC';
          },
          2_000,
        ));
      if (!ok) throw new ActionError('timeout', `Route 53 change ${change} is still ${status} ${wait.timeout} after it was made`, { retryable: true });
    },
    async preflight() {
      return [];
    },
  };
}
