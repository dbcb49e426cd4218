// A TCP relay in front of a PostgreSQL server that holds the server's replies on connections whose startup packet names a marker (a tool's application_name): that tool then waits, provably mid-run, while a test reads its argv and environment.
import { connect, createServer, type Socket } from 'node:net';

export interface MarkedRelay {
  port: number;
  /** Resolves once a marked connection is open and the server's first reply to it is held back. */
  held(timeoutMs?: number): Promise<void>;
  /** Forwards what was held; from then on every connection passes freely. */
  release(): void;
  close(): Promise<void>;
}

export async function startMarkedRelay(upstreamPort: number, marker: string): Promise<MarkedRelay> {
  let holding = true;
  const queues: Array<{ down: Socket; chunks: Buffer[] }> = [];
  const sockets = new Set<Socket>();
  let onHeld: () => void = () => undefined;
  const heldOnce = new Promise<void>((resolve) => (onHeld = resolve));

  const server = createServer((down) => {
    const up = connect({ host: '127.0.0.1', port: upstreamPort });
    sockets.add(down).add(up);
    let seen = Buffer.alloc(0);
    let queue: { down: Socket; chunks: Buffer[] } | undefined;
    down.on('data', (chunk: Buffer) => {
      if (!queue && holding) {
        seen = Buffer.concat([seen, chunk]).subarray(-8192);
        if (seen.includes(marker)) queues.push((queue = { down, chunks: [] }));
      }
      up.write(chunk);
    });
    up.on('data', (chunk: Buffer) => {
      if (queue && holding) {
        queue.chunks.push(chunk);
        onHeld();
      } else down.write(chunk);
    });
    const end = () => {
      down.destroy();
      up.destroy();
    };
    up.on('close', end);
    down.on('close', end);
    up.on('error', () => undefined);
    down.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('relay has no port');

  return {
    port: address.port,
    held: (timeoutMs = 120_000) =>
      Promise.race([
        heldOnce,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no ${marker} connection held within ${timeoutMs}ms`)), timeoutMs).unref()),
      ]),
    release() {
      holding = false;
      for (const { down, chunks } of queues.splice(0)) for (const chunk of chunks) down.write(chunk);
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
