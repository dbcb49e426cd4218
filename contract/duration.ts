// Durations as runbooks write them (500ms, 5s, 10m, 1h, 2d): the pattern, parsing to milliseconds, two-unit formatting for reports.
import ms from 'ms';

/** Durations are written as in Temporal and Kubernetes: `500ms`, `5s`, `10m`, `1h`, `2d`. */
export const DURATION_PATTERN = /^\d+(\.\d+)?(ms|s|m|h|d)$/;

export function parseDuration(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  const value = ms(text as ms.StringValue);
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

const UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/**
 * A duration in its two largest units (`1h30m`, `20m34s`, `8s`), never rounded up to the next
 * unit: a report must not show an RPO of 1h29m as `1h` beside an objective of 1h.
 */
export function formatDuration(millis: number): string {
  if (Math.abs(millis) < 1000) return ms(Math.round(millis), { long: false });
  let rest = Math.round(millis / 1000) * 1000;
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    if (rest < size && !parts.length) continue;
    if (parts.length === 2) break;
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n || parts.length) parts.push(n ? `${n}${unit}` : '');
  }
  return parts.filter(Boolean).join('') || '0s';
}
