// A TCP relay in front of a test server that can hold the server's replies after a byte budget: a fault then lands while a stream is provably unfinished.
import { connect, createServer, type Socket } from 'node:net';

export interface TcpRelay {
  /** The loopback port to give clients instead of the server's. */
  port: number;
  /**
   * Forward `bytes` more from the server, then hold back everything the server sends on the
   * connections open at that moment until release(). Connections opened later pass freely:
   * what a client does about a stuck request (cancel it, kill its cursor) still reaches the server.
   * With `andNew`, they are held too: a client that polls cannot see an answer on a fresh connection.
   */
  holdAfter(bytes: number, options?: { andNew?: boolean }): void;
  /** Resolves once the budget is spent and a reply is held back: a client is waiting on bytes it cannot get. */
  held(timeoutMs?: number): Promise<void>;
  /**
   * Forwards what was held, then everything as it comes. A held connection the server ended
   * or dropped is reset instead: its requests in flight fail as they would had the server
   * died mid-reply, never completed by a restarted one.
   */
  release(): void;
  /** Client connections open now. */
  connections(): number;
  close(): Promise<void>;
}

interface Pair {
  down: Socket;
  up: Socket;
  /** Open when the budget ran out: what the server sends on it waits in `queue` (and, past QUEUE_LIMIT, in the server's socket). */
  held: boolean;
  queue: Buffer[];
  /** The server ended or dropped the connection while it was held (seen only while the relay still reads it). */
  ended: boolean;
}

/** Bytes held per connection before the relay stops reading from the server. */
const QUEUE_LIMIT = 1_000_000;

export async function startTcpRelay(upstreamPort: number): Promise<TcpRelay> {
  const pairs = new Set<Pair>();
  let budget = Number.POSITIVE_INFINITY;
  let holdNew = false;
  let waiters: Array<() => void> = [];
  const isHeld = () => [...pairs].some((p) => p.held && p.queue.length > 0);
  const notify = () => {
    if (!isHeld()) return;
    for (const wake of waiters) wake();
    waiters = [];
  };

  const deliver = (pair: Pair, chunk: Buffer) => {
    if (pair.held) {
      pair.queue.push(chunk);
      // A server that streams (a COPY) is stopped by backpressure, not buffered here whole.
      if (pair.queue.reduce((n, c) => n + c.length, 0) > QUEUE_LIMIT) pair.up.pause();
      return notify();
    }
    if (budget === 0) return void pair.down.write(chunk);
    const take = Math.min(budget, chunk.length);
    budget -= take;
    pair.down.write(chunk.subarray(0, take));
    if (budget > 0) return;
    for (const p of pairs) p.held = true;
    if (take < chunk.length) pair.queue.push(chunk.subarray(take));
    notify();
  };
  // A held connection's end is not shown yet: a client must not reconnect, mid-fault, to a server restarted under it.
  const upstreamGone = (pair: Pair) => {
    if (pair.held) pair.ended = true;
    else pair.down.destroy();
  };

  const server = createServer((down) => {
    const up = connect({ host: '127.0.0.1', port: upstreamPort });
    const pair: Pair = { down, up, held: holdNew && budget === 0, queue: [], ended: false };
    pairs.add(pair);
    down.on('data', (chunk) => up.write(chunk));
    up.on('data', (chunk: Buffer) => deliver(pair, chunk));
    up.on('close', () => upstreamGone(pair));
    up.on('error', () => undefined);
    down.on('error', () => up.destroy());
    down.on('close', () => {
      up.destroy();
      pairs.delete(pair);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('relay has no port');

  return {
    port: address.port,
    holdAfter(bytes, options) {
      budget = bytes;
      holdNew = options?.andNew ?? false;
    },
    held: (timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        if (isHeld()) return resolve();
        const timer = setTimeout(() => reject(new Error(`the relay held nothing within ${timeoutMs}ms`)), timeoutMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
    release() {
      budget = Number.POSITIVE_INFINITY;
      holdNew = false;
      for (const pair of pairs) {
        if (!pair.held) continue;
        pair.held = false;
        if (pair.ended) pair.down.destroy();
        else for (const chunk of pair.queue.splice(0)) pair.down.write(chunk);
        pair.up.resume();
      }
    },
    connections: () => pairs.size,
    close: () =>
      new Promise((resolve) => {
        for (const pair of pairs) pair.down.destroy();
        server.close(() => resolve());
      }),
  };
}
