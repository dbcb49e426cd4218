// Where an e-mail's attached report comes from: the worker registers a source that reads the run from Temporal (activities do not import client/).
let source: ((runId: string) => Promise<string>) | undefined;

/** Set once by the worker: the run's report as Markdown. */
export function useReportSource(read: (runId: string) => Promise<string>): void {
  source = read;
}

/** The report of `runId`, or undefined when no source is registered (a worker built without one) or it cannot be read now. */
export async function reportOf(runId: string): Promise<string | undefined> {
  return source?.(runId).catch(() => undefined);
}
