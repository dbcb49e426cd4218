// The report's timeline as an SVG Gantt chart: a bar per step from its start to its end, coloured by outcome.
import type { TimelineEntry } from './build.ts';

const COLOURS: Record<TimelineEntry['status'], string> = {
  succeeded: '#2e7d32',
  failed: '#c62828',
  cancelled: '#6d4c41',
  skipped: '#9e9e9e',
  running: '#1565c0',
  pending: '#bdbdbd',
};

const LABEL_WIDTH = 200;
const CHART_WIDTH = 640;
const ROW = 22;
const TOP = 28;

/** Text for SVG and HTML: the five characters XML gives meaning to, escaped. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A tick spacing that gives about six ticks: 1, 2 or 5 times a power of ten, in ms. */
function tickStep(spanMs: number): number {
  const rough = Math.max(1, spanMs / 6);
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rough)!;
}

function tickLabel(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${+(ms / 1000).toFixed(1)} s`;
  return `${+(ms / 60_000).toFixed(1)} min`;
}

function axis(span: number, x: (t: number) => number, height: number): string[] {
  const out: string[] = [];
  const step = tickStep(span);
  for (let t = 0; t <= span; t += step) {
    out.push(`<line x1="${x(t)}" y1="${TOP - 6}" x2="${x(t)}" y2="${height - 4}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${x(t)}" y="${TOP - 10}" font-size="10" text-anchor="middle" fill="#616161">${tickLabel(t)}</text>`);
  }
  return out;
}

function bar(entry: TimelineEntry, row: number, origin: number, x: (t: number) => number): string[] {
  const y = TOP + row * ROW;
  const label = `${entry.id}${entry.attempt > 1 ? ` ×${entry.attempt}` : ''}`;
  const out = [`<text x="${LABEL_WIDTH - 8}" y="${y + 15}" font-size="12" text-anchor="end">${escapeXml(label)}</text>`];
  if (!entry.started_at) return out;
  const start = Date.parse(entry.started_at) - origin;
  const end = entry.ended_at ? Date.parse(entry.ended_at) - origin : start;
  const width = Math.max(2, x(end) - x(start));
  const title = `${entry.id} (${entry.uses}): ${entry.status}${entry.execution === 'simulate' ? ', simulated' : ''}, ${entry.duration_ms ?? 0} ms${entry.reason ? ` — ${entry.reason}` : ''}`;
  // Simulated steps (drill preflights) are hatched by opacity, so a reader sees nothing changed there.
  const opacity = entry.execution === 'simulate' ? ' fill-opacity="0.55"' : '';
  out.push(
    `<rect x="${x(start).toFixed(1)}" y="${y + 4}" width="${width.toFixed(1)}" height="${ROW - 8}" rx="2" fill="${COLOURS[entry.status]}"${opacity}><title>${escapeXml(title)}</title></rect>`,
  );
  return out;
}

/** The chart, self-contained (no scripts, no external resources), from `originAt` (RTO's start) to the last step's end. */
export function ganttSvg(entries: TimelineEntry[], originAt: string): string {
  const origin = Date.parse(originAt);
  const ends = entries
    .flatMap((e) => [e.started_at, e.ended_at])
    .filter((t): t is string => !!t)
    .map((t) => Date.parse(t) - origin);
  const span = Math.max(1, ...ends);
  const x = (t: number) => LABEL_WIDTH + (Math.max(0, t) / span) * (CHART_WIDTH - 10);
  const height = TOP + entries.length * ROW + 8;
  const width = LABEL_WIDTH + CHART_WIDTH;
  const lines = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" role="img" aria-label="step timeline">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...axis(span, x, height),
    ...entries.flatMap((entry, row) => bar(entry, row, origin, x)),
    '</svg>',
  ];
  return lines.join('\n');
}
