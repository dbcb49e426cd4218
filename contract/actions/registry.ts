// The action registry: every action a runbook may `uses:`, by name, as specs only so the compiler can import it.
import type { ActionSpec } from '../action.ts';
import { approval, childRunbook, sleep } from './builtin.ts';
import { dnsSwitch } from './dns.ts';
import { httpCheck, httpRequest } from './http.ts';
import { k8sBackup, k8sRestore, k8sRestoreVolume, k8sSnapshot } from './kubernetes-backup.ts';
import { k8sScale, k8sWait } from './kubernetes.ts';
import { etcdRestore, etcdSnapshot } from './etcd.ts';
import { log } from './log.ts';
import { objectsCheck, objectsReplicate } from './objects.ts';
import { rabbitmqCheck, rabbitmqExport, rabbitmqImport } from './rabbitmq.ts';
import { redisRestore, redisSnapshot } from './redis.ts';
import { mongodbCheck, mongodbDump, mongodbRestore } from './mongodb.ts';
import { postgresCheck, postgresDump, postgresRestore } from './postgres.ts';
import { backupVerify, catalogResolve, catalogResolveSet, restorePointsPrune } from './restore-points.ts';
import { routingSwitch } from './routing.ts';
import { volumeRestore, volumeSnapshot } from './volume.ts';
import { searchCheck, searchRestore, searchSnapshot } from './search.ts';

/** Every action a runbook may `uses:`. Specs only: no I/O, safe for the compiler to import. */
export const ACTIONS: ReadonlyMap<string, ActionSpec> = new Map(
  [
    approval,
    sleep,
    childRunbook,
    httpCheck,
    httpRequest,
    log,
    postgresDump,
    postgresRestore,
    postgresCheck,
    backupVerify,
    catalogResolve,
    catalogResolveSet,
    restorePointsPrune,
    routingSwitch,
    dnsSwitch,
    mongodbDump,
    mongodbRestore,
    mongodbCheck,
    k8sScale,
    k8sWait,
    k8sBackup,
    k8sRestore,
    k8sSnapshot,
    k8sRestoreVolume,
    redisSnapshot,
    redisRestore,
    etcdSnapshot,
    etcdRestore,
    objectsCheck,
    objectsReplicate,
    volumeSnapshot,
    volumeRestore,
    rabbitmqExport,
    rabbitmqImport,
    rabbitmqCheck,
    searchSnapshot,
    searchRestore,
    searchCheck,
  ].map((a) => [a.name, a as ActionSpec]),
);
