// Test helper: a loopback HTTP server with per-path handlers that records and counts requests, so tests see a step never ran twice.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

type Handler = (req: IncomingMessage, res: ServerResponse, count: number) => void | Promise<void>;

/**
 * A real HTTP server on loopback that counts requests per path: the backend the
 * foundation's tests drive, and the witness that a succeeded step never ran twice.
 */
export async function startHttpServer(routes: Record<string, Handler> = {}) {
  const counts = new Map<string, number>();
  const requests: Recorded[] = [];
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const count = (counts.get(path) ?? 0) + 1;
    counts.set(path, count);
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers });
    const handler = routes[path];
    if (handler) await handler(req, res, count);
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: (path: string) => `${base}${path}`,
    count: (path: string) => counts.get(path) ?? 0,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
