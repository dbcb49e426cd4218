// Every integration's implementation (activities/<name>/index.ts), in one list: the worker's activities and backup.verify/prune's per-kind hooks derive from it.
import * as dns from './dns/index.ts';
import * as etcd from './etcd/index.ts';
import * as http from './http/index.ts';
import * as kubernetes from './kubernetes/index.ts';
import * as log from './log/index.ts';
import * as metrics from './metrics/index.ts';
import * as mongodb from './mongodb/index.ts';
import * as mysql from './mysql/index.ts';
import * as notify from './notify/index.ts';
import * as objects from './objects/index.ts';
import * as pgbackrest from './pgbackrest/index.ts';
import * as postgres from './postgres/index.ts';
import * as rabbitmq from './rabbitmq/index.ts';
import * as redis from './redis/index.ts';
import * as routing from './routing/index.ts';
import * as search from './search/index.ts';
import * as volume from './volume/index.ts';
import type { Integration } from './runtime/integration.ts';

/** One line per integration, as contract/actions/integrations.ts lists their contracts (activities/registry.test.ts compares). */
export const INTEGRATIONS: readonly Integration[] = [
  http.integration,
  metrics.integration,
  log.integration,
  notify.integration,
  postgres.integration,
  mysql.integration,
  pgbackrest.integration,
  routing.integration,
  dns.integration,
  mongodb.integration,
  kubernetes.integration,
  redis.integration,
  etcd.integration,
  objects.integration,
  volume.integration,
  rabbitmq.integration,
  search.integration,
];
