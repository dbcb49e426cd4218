// The orders platform's other stateful services for the example runbooks: Redis, etcd, RabbitMQ, OpenSearch, EC2 (moto) and a media bucket with its DR replica (two MinIO), seeded.
import { CreateVolumeCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startMinio, type MinioServer } from '../../stack/minio.ts';
import { startEtcd, type EtcdServer } from '../../stack/etcd.ts';
import { startMoto, type MotoServer } from '../../stack/moto.ts';
import { startOpenSearch, type OpenSearchNode } from '../../stack/opensearch.ts';
import { startRabbitMq, type RabbitMqServer } from '../../stack/rabbitmq.ts';
import { startRedis, type RedisServer } from '../../stack/redis.ts';
import { startTogether } from './servers.ts';

export interface Platform {
  redis: RedisServer;
  etcd: EtcdServer;
  rabbitmq: RabbitMqServer;
  search: OpenSearchNode;
  moto: MotoServer;
  media: MinioServer;
  mediaReplica: MinioServer;
  /** What nightly-backup.yaml's secrets and parameters need on the worker. */
  env: Record<string, string>;
  params: Record<string, string>;
  /** What restore-set.yaml needs besides: the media bucket and its replica. */
  restoreParams: Record<string, string>;
  stop(): Promise<void>;
}

async function search(node: OpenSearchNode, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(new URL(path, node.url), {
    method,
    headers: { 'content-type': body === undefined || typeof body === 'object' ? 'application/json' : 'application/x-ndjson' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function seed(p: Omit<Platform, 'env' | 'params' | 'restoreParams' | 'stop'>): Promise<void> {
  for (let i = 0; i < 50; i++) p.redis.cli(['SET', `session:${i}`, `user-${i}`]);
  for (let i = 0; i < 20; i++) p.etcd.ctl(['put', `/config/orders/${i}`, `value ${i}`]);
  await p.rabbitmq.api('PUT', '/api/queues/%2F/orders.created', { durable: true });
  await p.rabbitmq.api('PUT', '/api/exchanges/%2F/orders', { type: 'topic', durable: true });
  await p.rabbitmq.api('POST', '/api/bindings/%2F/e/orders/q/orders.created', { routing_key: 'order.created' });
  await search(p.search, 'PUT', '/_snapshot/backups', { type: 'fs', settings: { location: `${p.search.repoDir}/backups` } });
  const docs = Array.from({ length: 30 }, (_, i) => `{"index":{"_index":"orders-2026","_id":"${i}"}}\n{"order":${i}}\n`).join('');
  await search(p.search, 'POST', '/_bulk?refresh=true', docs);
  const ec2 = new EC2Client({ region: 'us-east-1', endpoint: p.moto.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  for (const size of [8, 16]) {
    await ec2.send(
      new CreateVolumeCommand({
        Size: size,
        AvailabilityZone: 'us-east-1a',
        TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'app', Value: 'orders' }] }],
      }),
    );
  }
  ec2.destroy();
  // The replica has the older objects only: the newest one is its lag.
  const s3 = (m: MinioServer) =>
    new S3Client({ region: 'us-east-1', endpoint: m.endpoint, forcePathStyle: true, credentials: { accessKeyId: m.accessKey, secretAccessKey: m.secretKey } });
  for (const m of [p.media, p.mediaReplica]) await s3(m).send(new CreateBucketCommand({ Bucket: 'media' }));
  for (let i = 0; i < 5; i++) {
    for (const m of i < 4 ? [p.media, p.mediaReplica] : [p.media])
      await s3(m).send(new PutObjectCommand({ Bucket: 'media', Key: `img/${i}.png`, Body: `image ${i}` }));
  }
}

/** Starts every server at once; if one fails, the others are stopped before the error. */
export async function startPlatform(): Promise<Platform> {
  const servers = await startTogether(startRedis(), startEtcd(), startRabbitMq(), startOpenSearch(), startMoto(), startMinio(), startMinio());
  const [redis, etcd, rabbitmq, searchNode, moto, media, mediaReplica] = servers;
  const stopAll = async () => {
    await Promise.all(
      [redis.destroy(), etcd.destroy(), rabbitmq.destroy(), searchNode.destroy(), moto.stop(), media.stop(), mediaReplica.stop()].map((p) =>
        p.catch(() => undefined),
      ),
    );
  };
  const platform = { redis, etcd, rabbitmq, search: searchNode, moto, media, mediaReplica };
  await seed(platform).catch(async (error) => {
    await stopAll();
    throw error;
  });
  return {
    ...platform,
    env: {
      ORDERS_REDIS_URL: redis.url(),
      CONFIG_ETCD_PASSWORD: etcd.password,
      ORDERS_RABBITMQ_URL: rabbitmq.url(),
      // Drills import into a scratch vhost of the same broker (restore-set.yaml).
      SCRATCH_RABBITMQ_URL: rabbitmq.url(),
      ORDERS_SEARCH_URL: searchNode.url,
      // The worker's own AWS configuration, as on an EC2 host: no keys in the runbook.
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_EC2: moto.endpoint,
      MEDIA_ACCESS_KEY: media.accessKey,
      MEDIA_SECRET_KEY: media.secretKey,
      MEDIA_REPLICA_ACCESS_KEY: mediaReplica.accessKey,
      MEDIA_REPLICA_SECRET_KEY: mediaReplica.secretKey,
    },
    params: { etcd_endpoint: etcd.endpoint },
    restoreParams: {
      media_url: 's3://media/img/',
      media_endpoint: media.endpoint,
      media_replica_url: 's3://media/img/',
      media_replica_endpoint: mediaReplica.endpoint,
    },
    stop: stopAll,
  };
}
