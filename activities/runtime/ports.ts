// A free loopback port for a server we start (scratch servers of drills and restore checks; the test stack's servers), outside the ephemeral range.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Ports below the kernel's ephemeral range: a port from inside it (what `listen(0)` gives) can
 * be taken by any outgoing connection between our check and the server's own bind, which was
 * seen as `eaddrinuse` when several servers started at once.
 */
function candidates(): [number, number] {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && low > 12_000) return [10_000, low - 1];
  } catch {
    // not Linux: take what the OS gives
  }
  return [0, 0];
}

function bindable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });
}

export async function freePort(): Promise<number> {
  const [low, high] = candidates();
  for (let tries = 0; low && tries < 50; tries++) {
    const port = await bindable(low + Math.floor(Math.random() * (high - low + 1)));
    if (port) return port;
  }
  const port = await bindable(0);
  if (!port) throw new Error('no free loopback port');
  return port;
}

/** `count` free ports, distinct from each other. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
