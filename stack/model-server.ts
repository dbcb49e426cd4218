// A model-server stand-in for the ML site: model status, predictions and an error-ratio gauge for Prometheus, on one loopback address.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export const MODEL = 'resnet';

export interface ModelServer {
  /** `http://host:port`, the base the runbook's `primary_url` / `standby_url` take. */
  url: string;
  /** `host:port`, as HAProxy and Prometheus name it. */
  hostPort: string;
  healthy(): boolean;
  setHealthy(healthy: boolean): void;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  void res.writeHead(status, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify(body));

/** Drains the request body: a prediction reads it, as a model server would. */
async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A prediction from the request's first instance: deterministic, so a smoke test can compare answers. */
function predict(text: string): number[] {
  const parsed = JSON.parse(text || '{}') as { instances?: number[][] };
  const first = parsed.instances?.[0] ?? [];
  const total = first.reduce((sum, v) => sum + (Number(v) || 0), 0);
  return [Number((1 / (1 + Math.exp(-total))).toFixed(4))];
}

function handler(site: string, healthy: () => boolean) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    const up = healthy();
    if (path === '/metrics') {
      // While down every request fails: the ratio an exporter would report for the last minute.
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', connection: 'close' });
      return void res.end(`# TYPE inference_error_ratio gauge\ninference_error_ratio{site="${site}"} ${up ? 0 : 1}\n`);
    }
    if (path === `/v1/models/${MODEL}`) {
      return json(res, up ? 200 : 503, { model: { name: MODEL, version: '7', status: up ? 'loaded' : 'unavailable' }, site });
    }
    if (path === '/v1/predict' && req.method === 'POST') {
      const text = await bodyOf(req);
      if (!up) return json(res, 503, { error: 'model unavailable', site });
      try {
        return json(res, 200, { prediction: predict(text), model: MODEL, site });
      } catch {
        return json(res, 400, { error: 'the body is not {"instances": [[…]]}', site });
      }
    }
    json(res, 404, { error: `no route ${req.method} ${path}`, site });
  };
}

/** Starts one stand-in on `host` (a free port), healthy until told otherwise. */
export async function startModelServer(site: string, host: string): Promise<ModelServer> {
  let up = true;
  const server: Server = createServer((req, res) => void handler(site, () => up)(req, res));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const hostPort = `${host}:${(server.address() as { port: number }).port}`;
  return {
    url: `http://${hostPort}`,
    hostPort,
    healthy: () => up,
    setHealthy: (healthy) => void (up = healthy),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
