// Waiting between polls in an activity: ends early when the activity is cancelled, and leaves no listener on the signal (a poll loop calls it thousands of times).
/** Waits `ms`, or less when `signal` aborts; the caller decides what an abort means. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
