// Worker metrics through the real activity wrapper and a real file store: step outcomes and attempts by the retry verdict, durations, restore-point bytes written and read.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { StorageSchema } from '../../contract/storage.ts';
import { log } from '../../contract/actions/log.ts';
import { stepRunner } from '../../test/helpers/activity.ts';
import { logImpl } from '../log/log.ts';
import { openRestorePoints } from '../restore-points/index.ts';
import { ActionError } from './errors.ts';
import { enableWorkerMetrics } from './metrics.ts';
import { defineImpl } from './wrap.ts';

const registry = enableWorkerMetrics();
const value = async (name: string, labels: Record<string, string>): Promise<number> => {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const found = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return Number(found?.value ?? 0);
};

/** An action that fails as told: retryable or not. */
const flaky = defineImpl({
  spec: { ...log, name: 'test.flaky', input: z.object({ retryable: z.boolean() }) } as unknown as typeof log,
  async run(input) {
    throw new ActionError('unreachable', 'down', { retryable: (input as unknown as { retryable: boolean }).retryable });
  },
});

const steps = stepRunner({ runbook: 'metrics', step: 'one' });

describe('worker metrics', () => {
  it('count a succeeded step, its attempt and its duration', async () => {
    await steps.run(logImpl, { message: 'hello' });
    expect(await value('rebound_steps_total', { action: 'log', outcome: 'succeeded' })).toBe(1);
    expect(await value('rebound_step_attempts_total', { action: 'log' })).toBe(1);
    expect(await value('rebound_activity_duration_seconds', { action: 'log', le: '+Inf' })).toBe(1);
  });

  it('a failed attempt that will be retried is an attempt, not a failed step; the last one, or a refusal, is', async () => {
    await expect(steps.run(flaky, { retryable: true }, { attempt: 1 })).rejects.toThrow(/will retry/);
    expect(await value('rebound_step_attempts_total', { action: 'test.flaky' })).toBe(1);
    expect(await value('rebound_steps_total', { action: 'test.flaky', outcome: 'failed' })).toBe(0);
    await expect(steps.run(flaky, { retryable: true }, { attempt: 3 })).rejects.toThrow(/no attempts left/);
    expect(await value('rebound_steps_total', { action: 'test.flaky', outcome: 'failed' })).toBe(1);
    await expect(steps.run(flaky, { retryable: false }, { attempt: 1 })).rejects.toThrow(/not retryable/);
    expect(await value('rebound_steps_total', { action: 'test.flaky', outcome: 'failed' })).toBe(2);
    expect(await value('rebound_step_attempts_total', { action: 'test.flaky' })).toBe(3);
  });

  it('count the bytes of a committed point as written and of every object read as read, by kind', async () => {
    const storage = StorageSchema.parse({ url: `file://${mkdtempSync(join(tmpdir(), 'rebound-metrics-'))}` });
    const points = openRestorePoints(storage);
    const draft = points.draft('orders', 'etcd', '20260101T000000Z-0000abcd');
    const data = Buffer.alloc(10_000, 7);
    await draft.put('snapshot.db', Readable.from([data]));
    const point = await draft.commit({
      object: 'snapshot.db',
      size: data.length,
      sha256: 'x',
      started_at: '2026-01-01T00:00:00Z',
      completed_at: '2026-01-01T00:00:01Z',
      set_id: 's',
      run_id: 'r',
      step: 'snap',
      source: {},
      tool: { name: 'test', version: '1' },
      server_version: '0',
      labels: {},
    });
    expect(await value('rebound_restore_point_bytes_total', { direction: 'written', kind: 'etcd' })).toBe(10_000);
    let read = 0;
    for await (const chunk of await points.open(point)) read += (chunk as Buffer).length;
    expect(read).toBe(10_000);
    expect(await value('rebound_restore_point_bytes_total', { direction: 'read', kind: 'etcd' })).toBe(10_000);
  });
});
