// metrics.check: one PromQL query (instant, or a range query over `for`), every value of every series compared with the threshold; a failure names the worst one.
import { metricsCheck, type COMPARISONS } from '../../contract/actions/metrics.ts';
import { parseDuration } from '../../contract/duration.ts';
import { ActionError } from '../runtime/errors.ts';
import { defineImpl } from '../runtime/wrap.ts';
import { queryPrometheus, type Sample, type Series } from './prometheus.ts';

type Expect = { op: (typeof COMPARISONS)[number]; value: number };

/** Series the outputs list: enough to see what was judged, little enough for a run's history. */
const LISTED = 10;

/** Evaluations per window by default, and the most a window gets (Prometheus refuses over 11,000 points a series). */
const DEFAULT_STEPS = 10;
const MAX_STEPS = 10_000;
const MAX_DEFAULT_STEP_MS = 15_000;

/**
 * How far a value is inside the condition: negative or zero when it fails (zero where the
 * bound itself fails), so the smallest margin is the worst value. NaN and ±Inf have no
 * place on that scale: they are worse than any number.
 */
function margin(v: number, expect: Expect): number {
  if (!Number.isFinite(v)) return -Infinity;
  switch (expect.op) {
    case '<':
    case '<=':
      return expect.value - v;
    case '>':
    case '>=':
      return v - expect.value;
    case '==':
      return -Math.abs(v - expect.value);
    case '!=':
      return Math.abs(v - expect.value);
  }
}

/** NaN (0/0: a ratio over no traffic) and ±Inf (x/0) say the query cannot tell, so they never pass. */
function meets(v: number, { op, value }: Expect): boolean {
  if (!Number.isFinite(v)) return false;
  if (op === '<') return v < value;
  if (op === '<=') return v <= value;
  if (op === '>') return v > value;
  if (op === '>=') return v >= value;
  return op === '==' ? v === value : v !== value;
}

const defaultStepMs = (windowMs: number) => Math.max(Math.min(windowMs / DEFAULT_STEPS, MAX_DEFAULT_STEP_MS), windowMs / MAX_STEPS, 1);

/** Labels as PromQL writes a series: `name{label="value", …}`. */
function seriesText(labels: Record<string, string>): string {
  const { __name__: metric = '', ...rest } = labels;
  const pairs = Object.entries(rest)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return pairs.length ? `${metric}{${pairs.join(', ')}}` : metric;
}

function valueText(v: number): string {
  if (Number.isNaN(v)) return 'NaN (not a number: 0/0, a ratio over no traffic?)';
  if (!Number.isFinite(v)) return `${v > 0 ? '+' : '-'}Inf (a division by zero?)`;
  return String(v);
}

const iso = (t: number) => new Date(t * 1000).toISOString();

interface Judged {
  labels: Record<string, string>;
  worst: Sample;
  margin: number;
  fails: boolean;
}

/** Each series' worst sample, the series nearest to failing (or failing worst) first. */
function judge(series: Series[], expect: Expect): Judged[] {
  const judged: Judged[] = [];
  for (const { labels, samples } of series) {
    let worst: Sample | undefined;
    let least = Infinity;
    for (const sample of samples) {
      const m = margin(sample.v, expect);
      if (worst === undefined || m < least) [worst, least] = [sample, m];
    }
    if (worst) judged.push({ labels, worst, margin: least, fails: samples.some((s) => !meets(s.v, expect)) });
  }
  return judged.sort((a, b) => Number(b.fails) - Number(a.fails) || a.margin - b.margin);
}

/**
 * A failed comparison is retryable: after a failover the error rate may still be settling,
 * and the step's retry policy says how long to give it.
 */
export const metricsCheckImpl = defineImpl({
  spec: metricsCheck,
  async run(input, ctx) {
    const nowSeconds = Date.now() / 1000;
    const windowMs = input.for === undefined ? undefined : parseDuration(input.for)!;
    const timeout = `${(parseDuration(input.timeout) ?? 10_000) / 1000}s`;
    const params: Record<string, string> =
      windowMs === undefined
        ? { query: input.query, time: nowSeconds.toFixed(3), timeout }
        : {
            query: input.query,
            start: (nowSeconds - windowMs / 1000).toFixed(3),
            end: nowSeconds.toFixed(3),
            step: String((input.step === undefined ? defaultStepMs(windowMs) : parseDuration(input.step)!) / 1000),
            timeout,
          };
    const answer = await queryPrometheus(input, windowMs === undefined ? 'query' : 'query_range', params, ctx.signal);
    for (const warning of answer.warnings) ctx.log('warn', `Prometheus: ${warning}`);

    const expected = `expected ${input.expect.op} ${input.expect.value}`;
    const over = input.for === undefined ? '' : ` (over the last ${input.for})`;
    const judged = judge(answer.series, input.expect);
    const result = {
      passed: true,
      query: input.query,
      window: input.for ?? null,
      samples: answer.series.reduce((n, s) => n + s.samples.length, 0),
      series_count: judged.length,
      series: judged.slice(0, LISTED).map((j) => ({ labels: j.labels, value: j.worst.v, at: iso(j.worst.t) })),
    };
    if (judged.length === 0) {
      if (input.on_empty === 'pass') return result;
      const what = input.name ?? input.query;
      throw new ActionError(
        'check_failed',
        `${what}: the query returned no series${over}: nothing to compare (${expected}; on_empty: pass accepts no series)`,
        {
          retryable: true,
        },
      );
    }
    const failing = judged.filter((j) => j.fails);
    const first = failing[0];
    if (first) {
      const series = seriesText(first.labels);
      const subject = [input.name, series].filter(Boolean).join(' ') || input.query;
      const at = windowMs === undefined ? '' : ` at ${iso(first.worst.t)}`;
      const more = failing.length > 1 ? `; ${failing.length - 1} more of ${judged.length} series fail too` : '';
      throw new ActionError('check_failed', `${subject} = ${valueText(first.worst.v)}${at}, ${expected}${over}${more}`, { retryable: true });
    }
    return result;
  },
});
