import ms from 'ms';

/** Durations are written as in Temporal and Kubernetes: `500ms`, `5s`, `10m`, `1h`, `2d`. */
export const DURATION_PATTERN = /^\d+(\.\d+)?(ms|s|m|h|d)$/;

export function parseDuration(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  const value = ms(text as ms.StringValue);
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function formatDuration(millis: number): string {
  return ms(Math.round(millis), { long: false });
}
