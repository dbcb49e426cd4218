// Renders a run's report as Markdown or HTML (with the SVG timeline embedded) or JSON: the document a team files as DR-test evidence.
import { formatDuration } from '../../contract/duration.ts';
import type { ChangeEntry, Report } from './build.ts';
import { escapeXml, ganttSvg } from './gantt.ts';
import type { SiteEntry } from './sites.ts';

export type ReportFormat = 'md' | 'json' | 'html';

const dur = (ms?: number): string => (ms === undefined ? 'n/a' : ms < 1000 ? `${ms} ms` : formatDuration(ms));
const verdict = (met?: boolean): string => (met === undefined ? '' : met ? 'met' : 'MISSED');
const met = (objective?: number, measured?: number): boolean | undefined =>
  objective === undefined || measured === undefined ? undefined : measured <= objective;
const state = (value: unknown): string => (value === undefined ? '' : value === null ? 'none' : JSON.stringify(value));

/** The rows every format shares: one array of cells per line, headers first. */
function objectiveRows(report: Report): string[][] {
  const { rto, rpo } = report;
  return [
    ['measure', 'objective', 'measured', 'verdict', 'note'],
    ['RTO: to traffic switched', dur(rto.objective_ms), dur(rto.to_switch_ms), verdict(rto.met), rto.note ?? ''],
    ['RTO: to run end', dur(rto.objective_ms), dur(rto.to_end_ms), '', ''],
    ['RPO: worst measured', dur(rpo.objective_ms), dur(rpo.worst_ms), verdict(rpo.met), rpo.note ?? ''],
    ...rpo.services.map((s) => [
      `RPO: ${s.service}`,
      dur(rpo.objective_ms),
      dur(s.age_ms),
      verdict(met(rpo.objective_ms, s.age_ms)),
      `steps: ${s.steps.join(', ')} (${s.methods.join(', ')})`,
    ]),
    ...rpo.points.map((p) => [`RPO: step ${p.step}`, '', dur(p.age_ms), '', [p.method, p.restore_point].filter(Boolean).join(': ')]),
  ];
}

function timelineRows(report: Report): string[][] {
  return [
    ['step', 'action', 'phase', 'status', 'attempts', 'started', 'ended', 'took', 'site', 'worker', 'note'],
    ...report.timeline.map((t) => [
      t.id,
      t.uses,
      t.phase,
      t.execution === 'simulate' ? `${t.status} (simulated)` : t.status,
      String(t.attempt),
      t.started_at ?? '',
      t.ended_at ?? '',
      dur(t.duration_ms),
      t.site ?? '',
      t.worker ?? '',
      t.reason ?? '',
    ]),
  ];
}

function siteRows(sites: SiteEntry[]): string[][] {
  return [
    ['site', 'succeeded', 'failed', 'other', 'workers'],
    ...sites.map((s) => [s.site, s.succeeded.join(', '), s.failed.join('; '), s.other.join(', '), s.workers.join(', ')]),
  ];
}

function approvalRows(report: Report): string[][] {
  return [
    ['step', 'decision', 'by', 'when', 'why'],
    ...report.approvals.map((a) => [
      a.step,
      a.decision + (a.auto_approved ? ' (AUTO-APPROVED: nobody decided in time)' : a.timed_out ? ' (timed out)' : ''),
      a.by,
      a.at ?? '',
      a.reason,
    ]),
  ];
}

/** Every ballot of every approval: who, how they proved it, when, and whether it counted (and if not, why). */
function voteRows(report: Report): string[][] {
  return [
    ['step', 'who', 'vote', 'channel', 'when', 'counted'],
    ...report.approvals.flatMap((a) =>
      (a.votes ?? []).map((v) => [a.step, v.by, v.decision, v.channel, v.at, v.counted ? 'yes' : `REFUSED: ${v.refused ?? ''}`]),
    ),
  ];
}

const hasVotes = (report: Report) => report.approvals.some((a) => a.votes?.length);

function changeRows(report: Report): string[][] {
  return [
    ['step', 'action', 'status', 'outcome', 'before', 'after'],
    ...report.changes.map((c) => [c.step, c.uses, c.status, outcome(c), before(c), state(c.current)]),
  ];
}

/** A drill's "before" is the state an earlier simulated step would have left, when one did: say which. */
const before = (c: ChangeEntry): string => `${state(c.previous)}${c.before_from ? ` (as "${c.before_from}" would leave it)` : ''}`;

function outcome(c: ChangeEntry): string {
  if (c.status !== 'succeeded') return c.reason ?? c.status;
  if (c.simulated) return c.changed === false ? 'preflight passed; already at the target' : 'preflight passed; would change';
  return c.changed === false ? 'already at the target: unchanged' : 'changed';
}

function heading(report: Report): string {
  const { run } = report;
  return `DR ${run.mode === 'drill' ? 'drill' : 'run'} report: ${run.runbook} — ${run.state}`;
}

function facts(report: Report): Array<[string, string]> {
  const { run, origin } = report;
  return [
    ['run', run.id],
    ['mode', run.mode],
    ['outcome', run.state + (run.error ? `: ${run.error}` : '')],
    ['runbook', `${run.source} (plan ${run.plan_hash.slice(0, 12)})`],
    ['started', run.started_at],
    ['ended', run.ended_at ?? 'still running'],
    ['RTO measured from', origin.kind === 'alert' ? `alert ${origin.alert ?? ''} startsAt ${origin.at}` : `run start ${origin.at}`],
  ];
}

const changesTitle = (report: Report): string => (report.run.mode === 'drill' ? 'Changes a run would make (drill preflights)' : 'Changes made');

function mdTable(rows: string[][]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const [head, ...body] = rows;
  return [`| ${head!.map(cell).join(' | ')} |`, `|${head!.map(() => ' --- ').join('|')}|`, ...body.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

function preflights(report: Report, item: (step: string, line: string) => string): string[] {
  return report.changes.flatMap((c) => (c.preflight ?? []).map((line) => item(c.step, line)));
}

/** Notifications, failed ones with why: a notification never fails the run, so this is where a failure shows. */
function notificationRows(report: Report): string[][] {
  const rows = [['event', 'status', 'at', 'channels or why']];
  for (const n of report.notifications ?? [])
    rows.push([`${n.event}${n.step ? ` (${n.step})` : ''}`, n.status, n.at, n.status === 'sent' ? (n.channels ?? []).join(', ') : (n.reason ?? '')]);
  return rows;
}

export function renderMarkdown(report: Report): string {
  const out = [`# ${heading(report)}`, '', ...facts(report).map(([k, v]) => `- **${k}**: ${v}`), ''];
  out.push('## Objectives', '', mdTable(objectiveRows(report)), '');
  out.push('## Timeline', '', ganttSvg(report.timeline, report.origin.at), '', mdTable(timelineRows(report)), '');
  if (report.sites) out.push('## Sites', '', mdTable(siteRows(report.sites)), '');
  out.push('## Approvals', '', report.approvals.length ? mdTable(approvalRows(report)) : 'No approvals were asked for.', '');
  if (hasVotes(report)) out.push('### Votes', '', mdTable(voteRows(report)), '');
  out.push(`## ${changesTitle(report)}`, '', report.changes.length ? mdTable(changeRows(report)) : 'No production step ran.', '');
  const checks = preflights(report, (step, line) => `- \`${step}\`: ${line}`);
  if (checks.length) out.push('### Preflight results', '', ...checks, '');
  if (report.notifications) out.push('## Notifications', '', mdTable(notificationRows(report)), '');
  return out.join('\n');
}

function htmlTable(rows: string[][]): string {
  const [head, ...body] = rows;
  const row = (cells: string[], tag: string) => `<tr>${cells.map((c) => `<${tag}>${escapeXml(c)}</${tag}>`).join('')}</tr>`;
  return `<table>\n${row(head!, 'th')}\n${body.map((r) => row(r, 'td')).join('\n')}\n</table>`;
}

const STYLE =
  'body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#212121}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:13px;vertical-align:top}th{background:#f5f5f5}';

export function renderHtml(report: Report): string {
  const title = escapeXml(heading(report));
  const out = [`<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${title}</title><style>${STYLE}</style></head><body>`, `<h1>${title}</h1>`];
  out.push(
    `<ul>${facts(report)
      .map(([k, v]) => `<li><b>${escapeXml(k)}</b>: ${escapeXml(v)}</li>`)
      .join('')}</ul>`,
  );
  out.push('<h2>Objectives</h2>', htmlTable(objectiveRows(report)));
  out.push('<h2>Timeline</h2>', ganttSvg(report.timeline, report.origin.at), htmlTable(timelineRows(report)));
  if (report.sites) out.push('<h2>Sites</h2>', htmlTable(siteRows(report.sites)));
  out.push('<h2>Approvals</h2>', report.approvals.length ? htmlTable(approvalRows(report)) : '<p>No approvals were asked for.</p>');
  if (hasVotes(report)) out.push('<h3>Votes</h3>', htmlTable(voteRows(report)));
  out.push(`<h2>${escapeXml(changesTitle(report))}</h2>`, report.changes.length ? htmlTable(changeRows(report)) : '<p>No production step ran.</p>');
  const checks = preflights(report, (step, line) => `<li><code>${escapeXml(step)}</code>: ${escapeXml(line)}</li>`);
  if (checks.length) out.push('<h3>Preflight results</h3>', `<ul>${checks.join('')}</ul>`);
  if (report.notifications) out.push('<h2>Notifications</h2>', htmlTable(notificationRows(report)));
  out.push('</body></html>');
  return `${out.join('\n')}\n`;
}

export function renderReport(report: Report, format: ReportFormat): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  return format === 'html' ? renderHtml(report) : renderMarkdown(report);
}
