// Rebound's own worker metrics (prom-client, a registry of our own): steps, attempts, activity durations, restore-point bytes; no-ops until `rebound worker --metrics` enables them.
import { type Readable, Transform, pipeline } from 'node:stream';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export type StepOutcome = 'succeeded' | 'failed' | 'cancelled';

interface WorkerMetrics {
  registry: Registry;
  steps: Counter<'action' | 'outcome'>;
  attempts: Counter<'action'>;
  duration: Histogram<'action'>;
  pointBytes: Counter<'direction' | 'kind'>;
}

/** Steps run from well under a second (log) to an hour (a large dump or restore). */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

let metrics: WorkerMetrics | undefined;

/** Turns the metrics on for this process (once) and returns their registry; until then every record call does nothing. */
export function enableWorkerMetrics(): Registry {
  metrics ??= create();
  return metrics.registry;
}

function create(): WorkerMetrics {
  // Our own registry: tests and embedders (rebound dev, serve) never share prom-client's global one.
  const registry = new Registry();
  // Prefixed so process metrics never collide with Core's `temporal_` series served beside them.
  collectDefaultMetrics({ register: registry, prefix: 'rebound_worker_' });
  const registers = [registry];
  return {
    registry,
    steps: new Counter({
      name: 'rebound_steps_total',
      help: 'Steps this worker finished, by action and outcome: succeeded; failed (not retryable, or no attempts left); cancelled',
      labelNames: ['action', 'outcome'],
      registers,
    }),
    attempts: new Counter({
      name: 'rebound_step_attempts_total',
      help: 'Activity attempts this worker ran, retries included, by action',
      labelNames: ['action'],
      registers,
    }),
    duration: new Histogram({
      name: 'rebound_activity_duration_seconds',
      help: 'How long each attempt of an action took on this worker, whatever its outcome',
      labelNames: ['action'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    pointBytes: new Counter({
      name: 'rebound_restore_point_bytes_total',
      help: 'Restore-point bytes in storage: written (objects of points committed) and read (restores, verifications), by kind',
      labelNames: ['direction', 'kind'],
      registers,
    }),
  };
}

/** One attempt of an action ended: its duration always, and the step's outcome when this attempt was its last. */
export function recordAttempt(action: string, seconds: number, outcome: StepOutcome | undefined): void {
  if (!metrics) return;
  metrics.attempts.inc({ action });
  metrics.duration.observe({ action }, seconds);
  if (outcome) metrics.steps.inc({ action, outcome });
}

/** A point was committed: its objects' bytes were written to storage. */
export function recordPointWritten(kind: string, bytes: number): void {
  if (metrics && bytes > 0) metrics.pointBytes.inc({ direction: 'written', kind }, bytes);
}

/** The stream a point's object is read through, counting what goes by; the stream itself when metrics are off. */
export function countPointRead(kind: string, source: Readable): Readable {
  const counter = metrics?.pointBytes.labels({ direction: 'read', kind });
  if (!counter) return source;
  const counting = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      counter.inc(chunk.length);
      done(null, chunk);
    },
  });
  // pipeline: a failed read fails the stream the reader holds, and a reader that stops early stops the read.
  return pipeline(source, counting, () => undefined);
}

/** What an attempt that threw means for its step: cancelled, failed for good, or undefined while a retry may follow. */
function outcomeOf(error: unknown, maxAttempts: number, attempt: number): StepOutcome | undefined {
  if (error instanceof CancelledFailure) return 'cancelled';
  const final = !(error instanceof ApplicationFailure) || error.nonRetryable || (maxAttempts > 0 && attempt >= maxAttempts);
  return final ? 'failed' : undefined;
}

/** Wraps an action's activity so every attempt is timed and counted, and its step's outcome with the attempt that settles it. */
export function measured<I extends { max_attempts: number }, O>(action: string, run: (input: I) => Promise<O>): (input: I) => Promise<O> {
  return async (input) => {
    if (!metrics) return run(input);
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const result = await run(input);
      recordAttempt(action, seconds(), 'succeeded');
      return result;
    } catch (error) {
      recordAttempt(action, seconds(), outcomeOf(error, input.max_attempts, Context.current().info.attempt));
      throw error;
    }
  };
}
