// Every integration's contract (contract/actions/<name>.ts), in one list: the action registry and backup.verify/prune's kind fields derive from it.
import * as dns from './dns.ts';
import * as etcd from './etcd.ts';
import * as http from './http.ts';
import * as kubernetes from './kubernetes.ts';
import * as log from './log.ts';
import * as metrics from './metrics.ts';
import * as mongodb from './mongodb.ts';
import * as mysql from './mysql.ts';
import * as notify from './notify.ts';
import * as objects from './objects.ts';
import * as pgbackrest from './pgbackrest.ts';
import * as postgres from './postgres.ts';
import * as rabbitmq from './rabbitmq.ts';
import * as redis from './redis.ts';
import * as routing from './routing.ts';
import * as search from './search.ts';
import * as volume from './volume.ts';

/**
 * One line per integration; activities/integrations.ts lists their implementations in the
 * same order (activities/registry.test.ts compares). The order is the JSON Schema's and
 * where a field several kinds declare takes its description from first.
 */
export const INTEGRATIONS = [
  http.spec,
  metrics.spec,
  log.spec,
  notify.spec,
  postgres.spec,
  mysql.spec,
  pgbackrest.spec,
  routing.spec,
  dns.spec,
  mongodb.spec,
  kubernetes.spec,
  redis.spec,
  etcd.spec,
  objects.spec,
  volume.spec,
  rabbitmq.spec,
  search.spec,
] as const;
