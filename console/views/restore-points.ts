// The restore-points page's body: a "latest verified before T" form, points per service (kind, size, age, verification and its evidence) and per set, failing or stale first.
import type { PointRecord } from '../../client/posture.ts';
import { badge, duration, esc, table, when } from '../html.ts';

/** What a verification recorded (verification.json): the console reads it where it shows a point's evidence. */
export interface Evidence {
  detail: string;
  checks: { check: string; ok: boolean; detail: string }[];
}

export interface RestorePointsInput {
  /** Points, newest first (the catalog's order). */
  points: PointRecord[];
  now: number;
  /** The service the page is narrowed to, if any. */
  service?: string;
  /** Verification evidence by point id, where it was read. */
  evidence?: ReadonlyMap<string, Evidence>;
  /** The answer to the form: the latest verified point of a service before a time (none: not found). */
  latest?: { service: string; before?: string; point?: PointRecord };
  /** Points shown per service (default 20). */
  perService?: number;
  /** Extra HTML per point (the server's verify / drill-restore forms), already escaped. */
  actions?: (point: PointRecord) => string;
}

const bytes = (n: number): string => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) [v, u] = [v / 1024, u + 1];
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
};

const time = (p: PointRecord) => Date.parse(p.completed_at);

/** 0: its newest point failed verification; 1: it has no verified point; 2: fine. Then the stalest first. */
export function serviceRank(points: PointRecord[]): number {
  if (points[0]?.status === 'failed') return 0;
  return points.some((p) => p.status === 'verified') ? 2 : 1;
}

export function groupServices(points: PointRecord[]): [string, PointRecord[]][] {
  const by = new Map<string, PointRecord[]>();
  for (const p of points) by.set(p.service, [...(by.get(p.service) ?? []), p]);
  for (const list of by.values()) list.sort((a, b) => time(b) - time(a));
  return [...by].sort(([a, pa], [b, pb]) => serviceRank(pa) - serviceRank(pb) || time(pa[0]!) - time(pb[0]!) || a.localeCompare(b));
}

function evidence(p: PointRecord, e: Evidence | undefined): string {
  if (!e) return p.verified_at ? `${badge(p.status)} ${when(p.verified_at)}` : badge(p.status);
  const checks = e.checks.map((c) => `<li>${c.ok ? 'ok' : '<strong>failed</strong>'} ${esc(c.check)}: ${esc(c.detail)}</li>`).join('');
  return `<details><summary>${badge(p.status)} ${when(p.verified_at)}</summary><p>${esc(e.detail)}</p>${checks ? `<ul>${checks}</ul>` : ''}</details>`;
}

function pointRow(p: PointRecord, input: RestorePointsInput): string[] {
  const row = [
    `<code>${esc(p.id)}</code>`,
    esc(p.kind),
    esc(bytes(p.size)),
    `${esc(duration(input.now - time(p)))} <span class="of">${when(p.completed_at)}</span>`,
    evidence(p, input.evidence?.get(p.id)),
    `<code>${esc(p.set_id)}</code>`,
  ];
  return input.actions ? [...row, input.actions(p)] : row;
}

function serviceTable(service: string, points: PointRecord[], input: RestorePointsInput): string {
  const shown = points.slice(0, input.perService ?? 20);
  const head = ['Point', 'Kind', 'Size', 'Age', 'Verification', 'Set', ...(input.actions ? ['Actions'] : [])];
  const more = points.length > shown.length ? `<p class="more">${points.length - shown.length} older point(s) not shown.</p>` : '';
  return `<section class="service" aria-label="${esc(service)}">${table(
    `${service} (${points.length} points)`,
    head,
    shown.map((p) => pointRow(p, input)),
  )}${more}</section>`;
}

function setsTable(points: PointRecord[]): string {
  const sets = new Map<string, PointRecord[]>();
  for (const p of points) sets.set(p.set_id, [...(sets.get(p.set_id) ?? []), p]);
  const rows = [...sets]
    .filter(([, ps]) => new Set(ps.map((p) => p.service)).size > 1)
    .map(([id, ps]) => ({
      id,
      ps,
      end: Math.max(...ps.map(time)),
      failed: ps.some((p) => p.status === 'failed'),
      verified: ps.every((p) => p.status === 'verified'),
    }))
    .sort((a, b) => Number(b.failed) - Number(a.failed) || b.end - a.end)
    .slice(0, 50);
  if (!rows.length) return '<p>No set holds points of several services.</p>';
  return table(
    'Sets (points one run took of several services)',
    ['Set', 'Services', 'Completed', 'State'],
    rows.map((s) => [
      `<code>${esc(s.id)}</code>`,
      [...new Set(s.ps.map((p) => p.service))]
        .sort()
        .map((x) => esc(x))
        .join(', '),
      when(new Date(s.end).toISOString()),
      badge(s.failed ? 'failed' : s.verified ? 'verified' : 'unverified'),
    ]),
  );
}

/** The "latest verified before T" form: a GET (it changes nothing), labelled fields. */
export function latestForm(latest: RestorePointsInput['latest'], service?: string): string {
  const value = latest?.service ?? service ?? '';
  const form = `<form method="get" action="/restore-points/latest" class="latest">
<label for="latest-service">Service</label> <input id="latest-service" name="service" required value="${esc(value)}">
<label for="latest-before">Verified before (UTC, e.g. 2026-11-24T10:00:00Z)</label> <input id="latest-before" name="before" value="${esc(latest?.before ?? '')}">
<button type="submit">Find latest verified point</button>
</form>`;
  if (!latest) return form;
  const before = latest.before ? ` before ${esc(latest.before)}` : '';
  const answer = latest.point
    ? `<p role="status" class="answer">Latest verified point of <strong>${esc(latest.service)}</strong>${before}: <code>${esc(latest.point.id)}</code>, completed ${when(latest.point.completed_at)}.</p>`
    : `<p role="status" class="answer missing">No verified point of <strong>${esc(latest.service)}</strong>${before}.</p>`;
  return form + answer;
}

/** The restore-points page as an HTML fragment (no page shell), every value escaped. */
export function renderRestorePoints(input: RestorePointsInput): string {
  const points = input.service ? input.points.filter((p) => p.service === input.service) : input.points;
  const services = groupServices(points);
  const body = services.length ? services.map(([s, ps]) => serviceTable(s, ps, input)).join('\n') : '<p>No restore points.</p>';
  return `${latestForm(input.latest, input.service)}\n<h2>Per service</h2>\n${body}\n<h2>Per set</h2>\n${setsTable(points)}`;
}
