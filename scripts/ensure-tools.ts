// Installs (or finds) every server the suite runs, before any test starts its clock.
import { ensureEtcd } from '../stack/etcd.ts';
import { ensureFerretDb } from '../stack/ferretdb.ts';
import { ensureHaproxy } from '../stack/haproxy.ts';
import { ensureKubernetes } from '../stack/kubernetes/build.ts';
import { ensureMinio } from '../stack/minio.ts';
import { ensureMoto } from '../stack/moto.ts';
import { ensureOpenSearch } from '../stack/opensearch.ts';
import { ensurePostgres } from '../stack/postgres.ts';
import { ensurePowerDns } from '../stack/powerdns.ts';
import { ensurePymongo } from '../stack/pymongo.ts';
import { ensureRabbitMq } from '../stack/rabbitmq.ts';
import { ensureRedis } from '../stack/redis.ts';
import { ensureTemporalCli } from '../stack/tools.ts';

const log = (line: string) => console.log(`[tools] ${line}`);
console.log(`[tools] temporal: ${ensureTemporalCli(log)}`);
console.log(`[tools] postgres: ${ensurePostgres(log)}`);
console.log(`[tools] minio: ${ensureMinio(log)}`);
console.log(`[tools] powerdns: ${ensurePowerDns(log)}`);
console.log(`[tools] haproxy: ${ensureHaproxy(log)}`);
console.log(`[tools] moto: ${ensureMoto(log)}`);
console.log(`[tools] ferretdb: ${ensureFerretDb(log)}`);
console.log(`[tools] pymongo (bson reader for tests): ${ensurePymongo(log)}`);
console.log(`[tools] redis: ${ensureRedis(log)}`);
console.log(`[tools] etcd: ${ensureEtcd(log)}`);
console.log(`[tools] rabbitmq: ${ensureRabbitMq(log)}`);
console.log(`[tools] kubernetes control plane: ${ensureKubernetes(log).bin('')}`);
console.log(`[tools] opensearch (one-node runner, Maven): ${ensureOpenSearch(log)}`);
