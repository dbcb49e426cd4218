// The drill trend chart: measured RTO and RPO across a runbook's drills as an accessible inline SVG (title, description, a titled circle per point), each against its objective.
import { duration, esc } from './html.ts';

export interface TrendSample {
  at: string;
  rto_ms?: number;
  rpo_ms?: number;
}

export interface Objectives {
  rto_ms?: number;
  rpo_ms?: number;
}

export const CHART = { width: 480, panel: 120, left: 64, right: 16, top: 22, bottom: 18 } as const;

type Metric = 'rto' | 'rpo';

/** The top of a panel's scale: the largest value or objective, with headroom; never 0. */
export function scaleMax(values: number[], objective?: number): number {
  const top = Math.max(0, ...values, objective ?? 0);
  return top > 0 ? top * 1.1 : 1;
}

/** x of each sample by its time across the plot's width (one sample, or all at once: the middle). */
export function xPositions(times: number[]): number[] {
  const [lo, hi] = [Math.min(...times), Math.max(...times)];
  const width = CHART.width - CHART.left - CHART.right;
  return times.map((t) => CHART.left + (hi === lo ? width / 2 : ((t - lo) / (hi - lo)) * width));
}

/** y of a value in a panel whose top is at `top`: 0 at its bottom, `max` at its top. */
export function yOf(value: number, max: number, top: number): number {
  const height = CHART.panel - CHART.top - CHART.bottom;
  return top + CHART.top + height - (value / max) * height;
}

const fmt = (n: number) => n.toFixed(1);

function panel(metric: Metric, series: TrendSample[], xs: number[], objective: number | undefined, top: number): string {
  const key = metric === 'rto' ? 'rto_ms' : 'rpo_ms';
  const points = series.map((s, i) => ({ at: s.at, x: xs[i]!, v: s[key] })).filter((p): p is { at: string; x: number; v: number } => p.v !== undefined);
  const max = scaleMax(
    points.map((p) => p.v),
    objective,
  );
  const label = metric.toUpperCase();
  const base = yOf(0, max, top);
  const out = [
    `<g class="panel ${metric}">`,
    `<text x="4" y="${fmt(top + 14)}" font-size="12" fill="#222">${label} (top ${esc(duration(max))})</text>`,
    `<line x1="${CHART.left}" y1="${fmt(base)}" x2="${CHART.width - CHART.right}" y2="${fmt(base)}" stroke="#555" stroke-width="1"/>`,
  ];
  if (objective !== undefined) {
    const y = fmt(yOf(objective, max, top));
    out.push(
      `<line class="objective" x1="${CHART.left}" y1="${y}" x2="${CHART.width - CHART.right}" y2="${y}" stroke="#a40000" stroke-width="1" stroke-dasharray="4 3"><title>${label} objective ${esc(duration(objective))}</title></line>`,
    );
  }
  if (points.length > 1) {
    const path = points.map((p) => `${fmt(p.x)},${fmt(yOf(p.v, max, top))}`).join(' ');
    out.push(`<polyline points="${path}" fill="none" stroke="#1f4e99" stroke-width="1.5"/>`);
  }
  for (const p of points) {
    const met = objective === undefined ? '' : p.v <= objective ? ', met' : ', missed';
    out.push(
      `<circle class="point ${metric}" cx="${fmt(p.x)}" cy="${fmt(yOf(p.v, max, top))}" r="4" fill="${objective !== undefined && p.v > objective ? '#a40000' : '#1f4e99'}"><title>${esc(p.at)}: ${label} ${esc(duration(p.v))}${met}</title></circle>`,
    );
  }
  if (!points.length) out.push(`<text x="${CHART.left + 8}" y="${fmt(base - 8)}" font-size="12" fill="#222">no ${label} measured</text>`);
  out.push('</g>');
  return out.join('');
}

let chartIds = 0;

/**
 * Two panels, RTO above RPO, each on its own scale (an RTO of minutes beside an RPO of hours
 * would flatten one of them), x by drill time; every point a circle titled with its time,
 * value and verdict, and the objective a dashed line. Colour is never the only cue.
 */
export function trendChart(series: TrendSample[], objectives: Objectives): string {
  const sorted = [...series].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const xs = sorted.length ? xPositions(sorted.map((s) => Date.parse(s.at))) : [];
  const id = `trend-${++chartIds}`;
  const rto = sorted.filter((s) => s.rto_ms !== undefined).length;
  const rpo = sorted.filter((s) => s.rpo_ms !== undefined).length;
  const objective = (o?: number) => (o === undefined ? 'no objective' : `objective ${duration(o)}`);
  const desc = `${sorted.length} drills${sorted.length ? ` from ${sorted[0]!.at} to ${sorted.at(-1)!.at}` : ''}: ${rto} measured RTO (${objective(objectives.rto_ms)}), ${rpo} measured RPO (${objective(objectives.rpo_ms)}).`;
  const height = CHART.panel * 2;
  return [
    `<svg class="trend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${CHART.width} ${height}" width="100%" role="img" aria-labelledby="${id}-t ${id}-d">`,
    `<title id="${id}-t">Measured RTO and RPO across drills</title>`,
    `<desc id="${id}-d">${esc(desc)}</desc>`,
    panel('rto', sorted, xs, objectives.rto_ms, 0),
    panel('rpo', sorted, xs, objectives.rpo_ms, CHART.panel),
    '</svg>',
  ].join('\n');
}
