// The identity a worker polls with, shared by the worker bootstrap and the activity wrapper so `rebound status` names the same worker Temporal does.
import { hostname } from 'node:os';

/** `pid@host`, Temporal's own default, made explicit so both sides agree. */
export function workerIdentity(): string {
  return process.env.REBOUND_WORKER_IDENTITY ?? `${process.pid}@${hostname()}`;
}
