// A run's child runs are the ones it started (its history's child events, their parent link), not whatever workflow holds the id `<run>.<step>`.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { loadRunRecord } from '../../client/record.ts';
import { fetchStatus, finalStatus, startRun, withChildren } from '../../client/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { connect, planOf, start, uniqueSite } from '../helpers/runs.ts';

const site = uniqueSite('children');
let worker: WorkerProcess;
let client: Client;

beforeAll(async () => {
  worker = await startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), startTimeoutMs: 120_000 });
  client = await connect(inject('temporalAddress'));
}, 180_000);

afterAll(async () => {
  await worker?.kill();
});

const child = 'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: real-child}\nspec:\n  steps:\n    - {id: work, uses: log, with: {message: child}}\n';
const parent = planOf(
  'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: parent}\nspec:\n  steps:\n    - {id: sub, uses: runbook, with: {path: child.yaml}}\n',
  {
    files: { 'child.yaml': child },
  },
);
const impostor = planOf(
  'apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: impostor}\nspec:\n  steps:\n    - {id: other, uses: log, with: {message: not yours}}\n',
);

describe('child runs found through their parent', () => {
  it('a later workflow under the child’s id is not taken for the child: not in the record (failback, report), not in the status', async () => {
    const handle = await start(client, parent, site);
    expect((await finalStatus(handle)).state).toBe('succeeded');
    // The child closed, so Temporal lets anyone start a new workflow under its id.
    const fake = await startRun(client, impostor, {}, { taskQueue: `rebound-${site}`, workflowId: `${handle.workflowId}.sub` });
    expect((await finalStatus(fake)).state).toBe('succeeded');

    const record = await loadRunRecord(client, handle.workflowId);
    expect(record.children.sub?.plan.name).toBe('real-child');
    expect(Object.keys(record.children.sub?.inputs ?? {})).toEqual(['work']);

    const status = await withChildren(client, handle.workflowId, await fetchStatus(client, handle.workflowId));
    expect(status.steps.map((s) => s.id)).toEqual(['sub', 'sub.work']);
  });
});
