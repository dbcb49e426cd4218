// Prometheus' HTTP API for metrics.check: instant and range queries sent as forms, answers parsed into series of samples, refusals mapped to failure codes.
import { ActionError } from '../runtime/errors.ts';
import { redact, send } from '../http/transport.ts';

/** One value at one evaluation time (unix seconds); NaN and ±Inf kept as Prometheus sent them. */
export interface Sample {
  t: number;
  v: number;
}

export interface Series {
  labels: Record<string, string>;
  samples: Sample[];
}

export interface Connection {
  url: string;
  headers: Record<string, string>;
  timeout: string;
  tls_verify: boolean;
}

export interface Answer {
  series: Series[];
  warnings: string[];
}

/** The API path under the base URL, which may carry a prefix (`--web.route-prefix`, a proxy's `/prometheus/`). */
function endpoint(base: string, path: string): string {
  const url = new URL(base);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return new URL(`api/v1/${path}`, url).toString();
}

/** Prometheus writes special floats its own way (`"+Inf"`, which Number() does not read). */
function floatOf(text: unknown): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return typeof text === 'string' && text.trim() !== '' ? Number(text) : NaN;
}

const sampleOf = (pair: unknown): Sample => {
  const [t, v] = Array.isArray(pair) ? pair : [];
  return { t: Number(t), v: floatOf(v) };
};

const NOT_FLOATS = 'native histogram samples cannot be compared with a number: query a float of them (histogram_quantile, histogram_count, …)';

/** The result of a successful query as series, whatever its type; a string result is refused. */
function seriesOf(data: { resultType?: unknown; result?: unknown }): Series[] {
  const items = Array.isArray(data.result) ? (data.result as Array<Record<string, unknown>>) : [];
  const labels = (item: Record<string, unknown>) => (item.metric ?? {}) as Record<string, string>;
  switch (data.resultType) {
    case 'scalar':
      return [{ labels: {}, samples: [sampleOf(data.result)] }];
    case 'vector':
      return items.map((item) => {
        if (item.histogram !== undefined) throw new ActionError('invalid_input', NOT_FLOATS, { retryable: false });
        return { labels: labels(item), samples: [sampleOf(item.value)] };
      });
    case 'matrix':
      return items.map((item) => {
        if (item.histograms !== undefined) throw new ActionError('invalid_input', NOT_FLOATS, { retryable: false });
        return { labels: labels(item), samples: (Array.isArray(item.values) ? item.values : []).map(sampleOf) };
      });
    default:
      throw new ActionError('invalid_input', `the query returns a ${String(data.resultType)}, not numbers to compare`, { retryable: false });
  }
}

/**
 * One query, POSTed as a form (Prometheus and the APIs compatible with it take both; a form
 * keeps a long PromQL expression out of URL limits and access logs). The answer's
 * `errorType`/`error` are quoted in any failure: they say what is wrong with the query.
 */
export async function queryPrometheus(conn: Connection, path: 'query' | 'query_range', params: Record<string, string>, signal: AbortSignal): Promise<Answer> {
  const url = endpoint(conn.url, path);
  const headers = Object.fromEntries(Object.entries(conn.headers).filter(([name]) => name.toLowerCase() !== 'content-type'));
  const response = await send(
    {
      url,
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
      timeout: conn.timeout,
      tls_verify: conn.tls_verify,
    },
    signal,
  );
  let body: { status?: unknown; data?: { resultType?: unknown; result?: unknown }; errorType?: unknown; error?: unknown; warnings?: unknown } | undefined;
  try {
    body = JSON.parse(response.body) as typeof body;
  } catch {
    body = undefined;
  }
  const where = `POST ${redact(url)}`;
  const said = body?.status === 'error' ? `${String(body.errorType)}: ${String(body.error)}` : response.body.slice(0, 200).trim();
  const { status } = response;
  if (status === 200 && body?.status === 'success' && body.data) {
    return { series: seriesOf(body.data), warnings: Array.isArray(body.warnings) ? body.warnings.map(String) : [] };
  }
  // 400 bad_data (a parse error, a bad parameter) and 422 execution errors: the query itself.
  if (status === 400 || status === 422) throw new ActionError('invalid_input', `Prometheus refused the query (${said})`, { retryable: false });
  if (status === 401 || status === 403) throw new ActionError('auth_failed', `${where} answered ${status}: ${said}`, { retryable: false });
  // 503 is also Prometheus' answer for a query that timed out or was cancelled.
  if (status >= 500 || status === 429) throw new ActionError('unreachable', `${where} answered ${status}: ${said}`, { retryable: true });
  if (status === 200)
    throw new ActionError('backend_error', `${where} answered 200 with no query result: is url Prometheus' API? ${said}`, { retryable: true });
  throw new ActionError('rejected', `${where} answered ${status}: ${said}`, { retryable: false });
}
