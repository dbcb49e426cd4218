// Starting several test servers at once: if one fails, the ones that started are stopped before the error, so nothing outlives a failed setup.
type Stoppable = { destroy?(): Promise<void>; stop?(): Promise<void> };

function stopServer(server: unknown): Promise<void> | undefined {
  const s = server as Stoppable;
  return (s.destroy ?? s.stop)?.call(s).catch(() => undefined);
}

/** Like Promise.all over server starts, but a failed start stops the others (afterAll never sees them: nothing was assigned). */
export async function startTogether<T extends unknown[]>(...starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? stopServer(s.value) : undefined)));
    throw failed.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as T;
}
