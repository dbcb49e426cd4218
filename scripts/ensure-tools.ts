import { ensureMinio } from '../stack/minio.ts';
import { ensurePostgres } from '../stack/postgres.ts';
import { ensureTemporalCli } from '../stack/tools.ts';

/** Installs (or finds) every server the suite runs, before any test starts its clock. */
const log = (line: string) => console.log(`[tools] ${line}`);
console.log(`[tools] temporal: ${ensureTemporalCli(log)}`);
console.log(`[tools] postgres: ${ensurePostgres(log)}`);
console.log(`[tools] minio: ${ensureMinio(log)}`);
