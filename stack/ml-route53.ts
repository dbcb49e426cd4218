// Route 53 for the ML site, as moto serves it: the inference zone, the public name's failover records and the PRIMARY's health check.
import { randomBytes } from 'node:crypto';
import {
  ChangeResourceRecordSetsCommand,
  CreateHealthCheckCommand,
  CreateHostedZoneCommand,
  GetHealthCheckCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';

export const ZONE = 'inference.test.';
export const PUBLIC_NAME = 'api.inference.test.';

export interface FailoverZone {
  client: Route53Client;
  zoneId: string;
  /** The health check the PRIMARY record answers by. */
  healthCheckId: string;
  healthCheck(): Promise<{ inverted: boolean; disabled: boolean }>;
}

/** moto takes any key pair; these name nobody's account. */
export const MOTO_CREDENTIALS = { accessKeyId: 'AKIDREBOUNDMLSITE', secretAccessKey: 'rebound-ml-site-not-a-secret' };

/**
 * The zone, an HTTP health check of the primary entry's model status, and the two failover
 * records: PRIMARY → the entry (answered while the check passes), SECONDARY → the standby.
 */
export async function seedFailoverZone(endpoint: string, entry: { ip: string; port: number; path: string }, standbyIp: string): Promise<FailoverZone> {
  const client = new Route53Client({ region: 'us-east-1', endpoint, credentials: MOTO_CREDENTIALS });
  const zone = await client.send(new CreateHostedZoneCommand({ Name: ZONE, CallerReference: `ml-site-${randomBytes(6).toString('hex')}` }));
  const zoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
  const check = await client.send(
    new CreateHealthCheckCommand({
      CallerReference: `ml-primary-${randomBytes(6).toString('hex')}`,
      HealthCheckConfig: { Type: 'HTTP', IPAddress: entry.ip, Port: entry.port, ResourcePath: entry.path, RequestInterval: 10, FailureThreshold: 3 },
    }),
  );
  const healthCheckId = check.HealthCheck!.Id!;
  const record = (role: 'PRIMARY' | 'SECONDARY', value: string, extra: { HealthCheckId?: string } = {}) => ({
    Action: 'CREATE' as const,
    ResourceRecordSet: {
      Name: PUBLIC_NAME,
      Type: 'A' as const,
      SetIdentifier: role === 'PRIMARY' ? 'primary' : 'standby',
      Failover: role,
      TTL: 60,
      ResourceRecords: [{ Value: value }],
      ...extra,
    },
  });
  await client.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: [record('PRIMARY', entry.ip, { HealthCheckId: healthCheckId }), record('SECONDARY', standbyIp)] },
    }),
  );
  const healthCheck = async () => {
    const got = await client.send(new GetHealthCheckCommand({ HealthCheckId: healthCheckId }));
    const config = got.HealthCheck?.HealthCheckConfig;
    return { inverted: config?.Inverted === true, disabled: config?.Disabled === true };
  };
  return { client, zoneId, healthCheckId, healthCheck };
}
