// Restore points written by hand into a file store, with chosen times and verdicts: what retention, sync and queries are tested on.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ManifestFields } from '../../activities/restore-points/index.ts';

interface HandPoint {
  service: string;
  completed_at: string;
  set_id?: string;
  status?: 'unverified' | 'verified' | 'failed';
  /** false: only the data object, as an upload that died before its manifest leaves it. */
  manifest?: boolean;
}

/** A restore point id as the actions make them: the time, then a hash. */
function handId(completedAt: string): string {
  return `${completedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
}

/** Writes a point under `<root>/<service>/postgres/<id>/`; returns its id. */
export function writePoint(root: string, point: HandPoint, id = handId(point.completed_at)): string {
  const dir = join(root, point.service, 'postgres', id);
  mkdirSync(dir, { recursive: true });
  const data = Buffer.from(`not a real dump: ${id}\n`);
  writeFileSync(join(dir, 'data.pgdump'), data);
  if (point.manifest === false) return id;
  const started = new Date(Date.parse(point.completed_at) - 60_000).toISOString();
  const manifest = {
    format: 'rebound.restore-point/v1',
    id,
    service: point.service,
    kind: 'postgres',
    object: 'data.pgdump',
    size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    started_at: started,
    completed_at: new Date(point.completed_at).toISOString(),
    set_id: point.set_id ?? id,
    run_id: `hand-${id}`,
    step: 'dump',
    source: { host: '127.0.0.1', database: point.service },
    tool: { name: 'pg_dump', version: 'pg_dump (PostgreSQL) 15' },
    server_version: '15',
    labels: {},
    storage: `file://${root}`,
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (point.status && point.status !== 'unverified') {
    const verification = { status: point.status, at: new Date(point.completed_at).toISOString(), detail: 'by hand', checks: [] };
    writeFileSync(join(dir, 'verification.json'), `${JSON.stringify(verification)}\n`);
  }
  return id;
}

/**
 * The manifest fields a test's hand-committed PostgreSQL point carries; with `data`, its
 * real size and sha256 (so verify can check them), else placeholders.
 */
export function manifestFields(completedAt: string, data?: Buffer): ManifestFields {
  return {
    object: 'data.pgdump',
    size: data?.length ?? 4,
    sha256: data ? createHash('sha256').update(data).digest('hex') : 'x',
    started_at: completedAt,
    completed_at: completedAt,
    set_id: `set-${completedAt}`,
    run_id: 'run',
    step: 'dump',
    source: {},
    tool: { name: 'pg_dump', version: '15' },
    server_version: '15',
    labels: {},
  };
}
