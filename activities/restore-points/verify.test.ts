// backup.verify's failures name the kind of point it verified (mongodb, postgres), not one fixed backend: over a real file store, through the activity wrapper.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { StorageSchema } from '../../contract/storage.ts';
import { testRestore as mongodbTestRestore } from '../mongodb/verify.ts';
import { testRestore as postgresTestRestore } from '../postgres/verify.ts';
import { stepRunner } from '../../test/helpers/activity.ts';
import { openRestorePoints, type ManifestFields } from './index.ts';
import { defineVerify } from './verify.ts';

const root = mkdtempSync(join(tmpdir(), 'rebound-verify-kind-'));
const storage = StorageSchema.parse({ url: `file://${root}` });
const verify = defineVerify({ postgres: postgresTestRestore, mongodb: mongodbTestRestore });
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const fields = (extra: Partial<ManifestFields>): ManifestFields => ({
  object: '',
  size: 0,
  sha256: '',
  started_at: '2026-01-01T00:00:00Z',
  completed_at: '2026-01-01T00:00:01Z',
  set_id: 's',
  run_id: 'r',
  step: 'dump',
  source: {},
  tool: { name: 'test', version: '1' },
  server_version: '0',
  labels: {},
  ...extra,
});

/** A committed point whose stored bytes are not the ones its manifest hashes: verification fails at the checksum, before any server. */
async function corruptPoint(kind: 'mongodb' | 'postgres', id: string): Promise<string> {
  const draft = openRestorePoints(storage).draft(`svc-${kind}`, kind, id);
  const name = kind === 'mongodb' ? 'app/orders.bson.gz' : 'data.pgdump';
  await draft.put(name, Readable.from([Buffer.from('flipped bytes')]));
  const listed = { name, size: 13, sha256: sha256(Buffer.from('original bytes')) };
  await draft.commit(
    kind === 'mongodb' ? fields({ objects: [listed], size: 13, sha256: 'listing' }) : fields({ object: name, size: listed.size, sha256: listed.sha256 }),
  );
  return id;
}

// Its backend is the action definition's, as the compiler puts in every backup.verify step's plan.
const { run } = stepRunner({ runbook: 'verify', runId: 'run-1', step: 'verify' });
const verifyWith = (restorePoint: string) => ({ restore_point: restorePoint, scratch: 'mongodb://127.0.0.1:1/unused', storage });

async function failureOf(restorePoint: string): Promise<ApplicationFailure> {
  const error = await run(verify, verifyWith(restorePoint)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('backup.verify failure messages', () => {
  it('name mongodb for a MongoDB point and postgres for a PostgreSQL one', async () => {
    const mongo = await failureOf(await corruptPoint('mongodb', '20260101T000000Z-mongo001'));
    expect(mongo.message).toMatch(
      /^mongodb: step "verify": restore point 20260101T000000Z-mongo001 of svc-mongodb failed verification: sha256: app\/orders\.bson\.gz/,
    );
    expect(mongo.details?.[0]).toMatchObject({ backend: 'mongodb' });
    expect(mongo.nonRetryable).toBe(true);

    const pg = await failureOf(await corruptPoint('postgres', '20260101T000000Z-pg000001'));
    expect(pg.message).toMatch(/^postgres: step "verify": restore point 20260101T000000Z-pg000001 of svc-postgres failed verification: sha256/);
  });

  it('name the restore points, not a database, while no point is found', async () => {
    const missing = await failureOf('20260101T000000Z-nothere1');
    expect(missing.message).toMatch(/^restore-points: step "verify": /);
  });

  it('a PostgreSQL point without a scratch URL fails without retry, naming what is missing', async () => {
    // An intact point: the checksum passes, so the test-restore is reached.
    const draft = openRestorePoints(storage).draft('svc-intact', 'postgres', '20260101T000000Z-intact01');
    const data = Buffer.from('pg bytes');
    await draft.put('data.pgdump', Readable.from([data]));
    await draft.commit(fields({ object: 'data.pgdump', size: data.length, sha256: sha256(data) }));
    const { scratch: _none, ...rest } = verifyWith('20260101T000000Z-intact01');
    const error = (await run(verify, rest).catch((e: unknown) => e)) as ApplicationFailure;
    expect(error.nonRetryable).toBe(true);
    expect(error.message).toContain(
      'postgres: step "verify": backup.verify of a postgres point needs scratch: the URL (from a secret) of a server for a scratch database',
    );
  });
});
