// Unit tests of the drill trend chart: one titled circle per measured point, the scale, the objective line, accessible title and description, escaping.
import { describe, expect, it } from 'vitest';
import { CHART, scaleMax, trendChart, xPositions, yOf } from './chart.ts';

const circles = (svg: string, metric: string) =>
  [...svg.matchAll(new RegExp(`<circle class="point ${metric}" cx="([\\d.]+)" cy="([\\d.]+)"`, 'g'))].map((m) => [Number(m[1]), Number(m[2])]);

describe('trendChart', () => {
  const series = [
    { at: '2026-01-03T00:00:00Z', rto_ms: 300_000, rpo_ms: 3_600_000 },
    { at: '2026-01-01T00:00:00Z', rto_ms: 100_000 },
    { at: '2026-01-02T00:00:00Z', rto_ms: 200_000, rpo_ms: 1_800_000 },
  ];
  it('draws one circle per measured point, each with a title, and says how many in its description', () => {
    const svg = trendChart(series, { rto_ms: 250_000, rpo_ms: 7_200_000 });
    expect(circles(svg, 'rto')).toHaveLength(3);
    expect(circles(svg, 'rpo')).toHaveLength(2);
    expect(svg.match(/<circle[^>]*><title>/g)).toHaveLength(5);
    expect(svg).toMatch(/role="img" aria-labelledby="(trend-\d+)-t \1-d"/);
    expect(svg).toContain('3 drills from 2026-01-01T00:00:00Z to 2026-01-03T00:00:00Z: 3 measured RTO (objective 4.2 min), 2 measured RPO (objective 2.0 h).');
    expect(svg).toContain('RTO 5.0 min, missed</title>');
    expect(svg.match(/class="objective"/g)).toHaveLength(2);
  });
  it('scales x by time and y from 0 to the largest value or objective with headroom', () => {
    const svg = trendChart(series, { rto_ms: 600_000 });
    const rto = circles(svg, 'rto');
    // Oldest first, across the plot's whole width; the middle day in the middle.
    expect(rto.map(([x]) => x)).toEqual([CHART.left, (CHART.left + CHART.width - CHART.right) / 2, CHART.width - CHART.right]);
    const max = scaleMax([100_000, 200_000, 300_000], 600_000);
    expect(max).toBeCloseTo(660_000);
    expect(rto[2]![1]).toBeCloseTo(yOf(300_000, max, 0), 1);
    // Higher values sit higher (smaller y); 0 sits on the panel's base.
    expect(rto[0]![1]).toBeGreaterThan(rto[2]![1]);
    expect(yOf(0, max, 0)).toBe(CHART.panel - CHART.bottom);
    expect(yOf(max, max, 0)).toBe(CHART.top);
  });
  it('puts a single drill in the middle and draws no line through it', () => {
    expect(xPositions([5])).toEqual([CHART.left + (CHART.width - CHART.left - CHART.right) / 2]);
    const svg = trendChart([{ at: '<script>', rto_ms: 5 }], {});
    expect(svg).not.toContain('<polyline');
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).toContain('no RPO measured');
  });
});
