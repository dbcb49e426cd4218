// Amazon Route 53 (or moto) through @aws-sdk/client-route-53: list record sets, UPSERT, then GetChange until INSYNC.
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ListResourceRecordSetsCommandOutput,
  type ResourceRecordSet,
  type RRType,
} from '@aws-sdk/client-route-53';
import { fqdn } from '../../contract/actions/dns.ts';
import { ActionError } from '../runtime/errors.ts';
import { networkReason, pollUntil, type DnsProvider, type RecordSet, type Target } from './records.ts';

export interface Route53Config {
  hosted_zone_id?: string;
  endpoint?: string;
  region: string;
  access_key?: string;
  secret_key?: string;
}

const UNAUTHORIZED = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'ExpiredToken',
  'InvalidSignatureException',
  'CredentialsProviderError',
]);
const TRANSIENT = new Set(['Throttling', 'ThrottlingException', 'PriorRequestNotComplete', 'ServiceUnavailable', 'TimeoutError']);

/** Maps an SDK error: credentials and bad requests will not get better by retrying; throttling and outages may. */
function failure(error: unknown, doing: string): ActionError {
  if (error instanceof ActionError) return error;
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const detail = `${e.name ?? 'Error'}: ${(e.message ?? '').slice(0, 300)}`;
  if (UNAUTHORIZED.has(e.name ?? '') || status === 401 || status === 403) {
    return new ActionError(
      'auth_failed',
      `Route 53 refused the credentials ${doing} (${e.name ?? `HTTP ${status}`}); check the secrets given as route53.access_key / secret_key, or the worker's AWS environment`,
      { retryable: false },
    );
  }
  if (e.name === 'NoSuchHostedZone') return new ActionError('not_found', `${doing}: ${detail}`, { retryable: false });
  if (TRANSIENT.has(e.name ?? '') || (status !== undefined && status >= 500) || status === undefined) {
    return new ActionError('unreachable', `Route 53 ${doing}: ${status === undefined ? networkReason(error) : detail}`, { retryable: true });
  }
  return new ActionError('rejected', `Route 53 ${doing}: ${detail}`, { retryable: false });
}

/** Route 53 spells some characters of names in octal escapes (`\052` for `*`). */
const decodeName = (name: string): string => fqdn(name.replace(/\\(\d{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8))));

function toSet(record: ResourceRecordSet, target: Target): RecordSet {
  if (record.AliasTarget || record.SetIdentifier) {
    if (record.Type === target.type) {
      const what = record.AliasTarget ? 'an alias record' : `a routing-policy record (set ${record.SetIdentifier})`;
      throw new ActionError('unsupported', `${target.name} ${target.type} is ${what}; dns.switch only replaces simple records`, { retryable: false });
    }
    return { values: [record.AliasTarget ? `ALIAS ${record.AliasTarget.DNSName}` : `set ${record.SetIdentifier}`], ttl: record.TTL ?? 0 };
  }
  return { values: (record.ResourceRecords ?? []).map((r) => r.Value ?? ''), ttl: record.TTL ?? 0 };
}

export function route53Provider(config: Route53Config, signal: AbortSignal): DnsProvider {
  const client = new Route53Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.access_key && config.secret_key ? { credentials: { accessKeyId: config.access_key, secretAccessKey: config.secret_key } } : {}),
  });
  const options = { abortSignal: signal };
  const send = async <T>(doing: string, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      throw failure(error, doing);
    }
  };
  let zoneId: string | undefined;

  /** The hosted zone's id: given (and checked to be this zone), else found by name — refusing when two zones share it. */
  async function findZone(zone: string): Promise<string> {
    if (zoneId) return zoneId;
    if (config.hosted_zone_id) {
      const id = config.hosted_zone_id.replace(/^\/hostedzone\//, '');
      const found = await send(`reading hosted zone ${id}`, () => client.send(new GetHostedZoneCommand({ Id: id }), options));
      const name = decodeName(found.HostedZone?.Name ?? '');
      if (name !== zone) throw new ActionError('invalid_input', `hosted zone ${id} is ${name}, not ${zone}`, { retryable: false });
      return (zoneId = id);
    }
    const listed = await send(`looking up zone ${zone}`, () => client.send(new ListHostedZonesByNameCommand({ DNSName: zone, MaxItems: 10 }), options));
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
      const page: ListResourceRecordSetsCommandOutput = await send(`reading ${target.name}`, () => client.send(request, options));
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
      const sets = new Map<string, RecordSet>();
      for (const record of await listAt(id, target)) sets.set(record.Type!, toSet(record, target));
      return { zone: `hosted zone ${id} (${target.zone}) on Route 53${config.endpoint ? ` at ${config.endpoint}` : ''}`, sets };
    },
    async write(target, set, wait) {
      const id = await findZone(target.zone);
      const changed = await send(`setting ${target.name} ${target.type}`, () =>
        client.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: id,
            ChangeBatch: {
              Comment: 'rebound dns.switch',
              Changes: [
                {
                  Action: 'UPSERT',
                  ResourceRecordSet: { Name: target.name, Type: target.type, TTL: set.ttl, ResourceRecords: set.values.map((Value) => ({ Value })) },
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
            status = (await send(`checking change ${change}`, () => client.send(new GetChangeCommand({ Id: change }), options))).ChangeInfo?.Status ?? status;
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
