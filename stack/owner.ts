// One owner for the embedded stack's processes and the signals that stop them.
interface Owned {
  name: string;
  stop: () => Promise<void>;
  pid?: () => number | undefined;
}

/**
 * Whatever the stack starts registers here; the owner stops it all, newest first, on
 * SIGINT, SIGTERM, a fatal error or a failed start. If this process dies before that, the
 * children it still owns are killed on exit so no server outlives the command.
 */
export class StackOwner {
  private readonly owned: Owned[] = [];
  private stopping?: Promise<void>;
  private readonly onExit = () => {
    for (const item of this.owned) {
      const pid = item.pid?.();
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  };

  private waiting = false;
  private signalled!: Promise<NodeJS.Signals>;

  constructor(private readonly log: (line: string) => void = (line) => console.error(line)) {
    process.once('exit', this.onExit);
    this.signalled = new Promise((resolve) => {
      const handle = (signal: NodeJS.Signals) => {
        process.removeListener('SIGINT', handle);
        process.removeListener('SIGTERM', handle);
        // A second signal while stopping: kill what is left and go.
        const force = () => {
          this.onExit();
          process.exit(130);
        };
        process.once('SIGINT', force);
        process.once('SIGTERM', force);
        resolve(signal);
        // Nobody waits for a signal (a demo mid-run): stop here, as Ctrl-C means.
        if (!this.waiting) void this.stopAll(this.log).then(() => process.exit(130));
      };
      process.on('SIGINT', handle);
      process.on('SIGTERM', handle);
    });
  }

  own(name: string, stop: () => Promise<void>, pid?: () => number | undefined): void {
    this.owned.push({ name, stop, pid });
  }

  /** The first SIGINT or SIGTERM; the caller then stops the stack (stopAll). */
  untilSignal(): Promise<NodeJS.Signals> {
    this.waiting = true;
    return this.signalled;
  }

  /** Stops everything owned, newest first; one failing stop does not keep the others running. */
  stopAll(log: (line: string) => void = this.log): Promise<void> {
    this.stopping ??= (async () => {
      while (this.owned.length) {
        const item = this.owned.pop()!;
        try {
          await item.stop();
        } catch (error) {
          log(`stopping ${item.name}: ${(error as Error).message}`);
          const pid = item.pid?.();
          if (pid) process.kill(pid, 'SIGKILL');
        }
      }
      process.removeListener('exit', this.onExit);
      log('stack stopped');
    })();
    return this.stopping;
  }
}
