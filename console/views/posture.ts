// The posture page's body: one row per service (newest point, age against RPO, PITR window or replica lag, next backup, last verification) and one per runbook (last run, last drill, RTO, trend chart), failing first.
import type { Colour, Posture, RunbookPosture, ServicePosture } from '../../client/posture.ts';
import type { Objective } from '../../contract/run.ts';
import { trendChart } from '../chart.ts';
import { badge, duration, esc, table, when } from '../html.ts';

/** The word beside a colour: a colour is never the only cue. */
export const COLOUR_WORD: Record<Colour, string> = { green: 'ok', amber: 'ageing', red: 'stale', grey: 'no objective' };

/** A colour's badge, with the reason as its text when there is one. */
export function colourBadge(colour: Colour, problem?: string): string {
  const word = colour === 'red' && problem && /fail/.test(problem) ? 'failing' : COLOUR_WORD[colour];
  return `<span class="badge c-${colour}">${esc(word)}</span>${problem ? ` <span class="why">${esc(problem)}</span>` : ''}`;
}

function newest(s: ServicePosture): string {
  if (!s.newest) return '—';
  const p = s.newest;
  return `<a href="/restore-points?service=${encodeURIComponent(s.service)}"><code>${esc(p.id)}</code></a> ${esc(p.kind)} ${badge(p.status)}`;
}

function age(s: ServicePosture): string {
  const a = s.age_ms === undefined ? '—' : esc(duration(s.age_ms));
  return `${a}${s.rpo_ms !== undefined ? ` <span class="of">of ${esc(duration(s.rpo_ms))}</span>` : ''}`;
}

function pitrOrLag(s: ServicePosture): string {
  const parts: string[] = [];
  if (s.pitr) parts.push(`PITR ${when(s.pitr.from)} … ${when(s.pitr.to)}`);
  if (s.replica_lag) {
    const lag = s.replica_lag.lag_ms === null ? 'not measured' : duration(s.replica_lag.lag_ms);
    parts.push(`replica lag ${esc(lag)}${s.replica_lag.at ? ` at ${when(s.replica_lag.at)}` : ''}`);
  }
  return parts.join('<br>') || '—';
}

function verification(s: ServicePosture): string {
  const v = s.last_verification;
  return v ? `${badge(v.status)} ${when(v.at)}` : 'never';
}

function labels(l: Record<string, string>): string {
  const entries = Object.entries(l);
  return entries.length ? ` <span class="labels">${entries.map(([k, v]) => `<span class="label">${esc(k)}=${esc(v)}</span>`).join(' ')}</span>` : '';
}

function serviceRow(s: ServicePosture): string[] {
  return [
    `<strong>${esc(s.service)}</strong>${labels(s.labels)}`,
    colourBadge(s.colour, s.problem),
    newest(s),
    age(s),
    pitrOrLag(s),
    s.next_backup ? when(s.next_backup) : '—',
    verification(s),
    s.runbooks.map((r) => esc(r)).join(', ') || '—',
  ];
}

function objective(o: Objective | undefined, name: string): string {
  if (!o || o.measured_ms === undefined) return `${name} —`;
  const verdict = o.met === undefined ? '' : o.met ? ' <span class="met">met</span>' : ' <span class="missed">missed</span>';
  const target = o.objective_ms !== undefined ? ` / ${esc(duration(o.objective_ms))}` : '';
  return `${name} ${esc(duration(o.measured_ms))}${target}${verdict}`;
}

function runbookRow(r: RunbookPosture): string[] {
  const drills = `/runbooks/${encodeURIComponent(r.runbook)}/drills`;
  const last = r.last_run ? `${badge(r.last_run.state)} ${esc(r.last_run.mode)} ${when(r.last_run.started_at)}` : 'never';
  const drill = r.last_drill ? `${badge(r.last_drill.state)} ${when(r.last_drill.started_at)}` : 'never';
  const schedule = r.schedule ? `${esc(r.schedule.description)}${r.schedule.next_at ? `<br>next ${when(r.schedule.next_at)}` : ''}` : '—';
  return [
    `<a href="${esc(drills)}"><strong>${esc(r.runbook)}</strong></a><br><span class="file">${esc(r.file)}</span>`,
    colourBadge(r.colour, r.problem),
    last,
    drill,
    `${objective(r.last_drill?.rto, 'RTO')}<br>${objective(r.last_drill?.rpo, 'RPO')}`,
    schedule,
    r.trend.length ? trendChart(r.trend, r.objectives) : 'no drill measured yet',
  ];
}

/** The posture as an HTML fragment (no page shell), every value escaped; rows come failing or stale first, as loadPosture ordered them. */
export function renderPosture(posture: Posture): string {
  const services = table(
    'Services',
    ['Service', 'State', 'Newest point', 'Age / RPO', 'PITR window / replica lag', 'Next backup', 'Last verification', 'Runbooks'],
    posture.services.map(serviceRow),
    ' class="posture services"',
  );
  const runbooks = table(
    'Runbooks',
    ['Runbook', 'State', 'Last run', 'Last drill', 'Measured vs objective', 'Schedule', 'Drill trend'],
    posture.runbooks.map(runbookRow),
    ' class="posture runbooks"',
  );
  const source = posture.catalog ? `restore points from ${esc(posture.catalog)}` : 'no restore-point catalog given';
  return `<p class="generated">As of ${when(posture.generated_at)} · ${source}</p>\n<section aria-label="services">${services}</section>\n<section aria-label="runbooks">${runbooks}</section>`;
}
