// The worker's log format: one readable line per entry, with the fields an operator needs.
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';

const KEEP = ['step', 'runbook', 'workflowId', 'activityType', 'attempt', 'taskQueue', 'state'];
let installed = false;

/**
 * One readable line per log entry: time, level, message and the fields an operator needs
 * (step, runbook, run). Task tokens and SDK internals stay out of the log.
 */
export function installLogger(options: { level?: 'DEBUG' | 'INFO' | 'WARN'; shutdownSignals?: NodeJS.Signals[]; coreMetricsAddress?: string } = {}): void {
  // Core's exporter is configured only when the runtime is created: asking later would silently export nothing.
  if (installed && options.coreMetricsAddress) throw new Error('worker metrics must be enabled before the first worker of the process is created');
  if (installed) return;
  installed = true;
  const logger = new DefaultLogger(options.level ?? 'INFO', (entry: LogEntry) => {
    const meta = entry.meta ?? {};
    const fields = KEEP.filter((k) => meta[k] !== undefined)
      .map((k) => `${k}=${String(meta[k])}`)
      .join(' ');
    const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
    process.stderr.write(`${time} ${entry.level.padEnd(5)} ${entry.message}${fields ? ` (${fields})` : ''}\n`);
  });
  // The embedded stack handles signals itself (stack/owner.ts); a bare worker leaves them to the SDK.
  Runtime.install({
    logger,
    ...(options.shutdownSignals ? { shutdownSignals: options.shutdownSignals } : {}),
    ...(options.coreMetricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: options.coreMetricsAddress } } } } : {}),
  });
}
