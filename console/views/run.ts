// A run's page body: its facts, what waits for a decision (the step's approval policy, the votes so far, the form for approvers), the step table with outputs and failure text, the Gantt timeline and the changes made or that would be made.
import { approvalPolicy } from '../../client/approval-policy.ts';
import type { RunRecord } from '../../client/record.ts';
import type { Report } from '../../client/report/build.ts';
import { ganttSvg } from '../../client/report/gantt.ts';
import { flattenRun, type FlatStep } from '../../client/run-tree.ts';
import type { Role } from '../auth.ts';
import { badge, csrfField, duration, esc, table, when } from '../html.ts';

export interface RunView {
  record: RunRecord;
  report: Report;
  role: Role;
  csrf: string;
  /** A message for the person (their vote, an error), shown once above the rest. */
  notice?: { kind: 'ok' | 'error'; text: string };
}

const runPath = (id: string) => `/runs/${encodeURIComponent(id)}`;

function facts(view: RunView): string {
  const { report, record } = view;
  const end = report.run.ended_at ? Date.parse(report.run.ended_at) : Date.now();
  const trigger = record.trigger?.kind ?? 'manual';
  const items: [string, string][] = [
    ['State', `<span id="run-state">${badge(report.run.state)}</span>`],
    ['Runbook', esc(report.run.runbook)],
    ['Mode', esc(report.run.mode)],
    ['Trigger', esc(trigger)],
    ['Started', when(report.run.started_at)],
    ['Ended', when(report.run.ended_at)],
    ['Took', esc(duration(end - Date.parse(report.run.started_at)))],
  ];
  if (report.rto.objective_ms !== undefined || report.rto.to_end_ms !== undefined)
    items.push(['RTO', `${esc(duration(report.rto.to_switch_ms ?? report.rto.to_end_ms))} of ${esc(duration(report.rto.objective_ms) || 'no objective')}`]);
  const list = items.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join('');
  const error = report.run.error ? `<p class="error" role="alert" id="run-error">${esc(report.run.error)}</p>` : '';
  return `<dl class="facts">${list}</dl>${error}`;
}

function votes(flat: FlatStep): string {
  const ballots = flat.state?.votes ?? [];
  if (!ballots.length) return '<p>No votes yet.</p>';
  const rows = ballots.map((v) => [
    esc(v.by),
    esc(v.decision),
    esc(v.channel),
    v.counted ? 'counted' : '<strong>refused</strong>',
    esc(v.counted ? v.reason : (v.refused ?? '')),
    when(v.at),
  ]);
  return table(`Votes on ${flat.id}`, ['Who', 'Decision', 'Channel', 'Counted', 'Reason', 'At'], rows);
}

function decisionForm(view: RunView, flat: FlatStep): string {
  if (view.role !== 'approver') return '<p class="hint">You are signed in as a viewer: only approvers can decide.</p>';
  const id = `reason-${flat.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return `<form method="post" action="${runPath(view.record.workflowId)}/approvals/${encodeURIComponent(flat.id)}" class="decide">
${csrfField(view.csrf)}
<label for="${id}">Reason (a rejection needs one)</label>
<textarea id="${id}" name="reason" rows="2" maxlength="1000"></textarea>
<div class="buttons"><button type="submit" name="decision" value="approve" class="approve">Approve ${esc(flat.id)}</button>
<button type="submit" name="decision" value="reject" class="reject">Reject</button></div>
</form>`;
}

function waiting(view: RunView, flats: FlatStep[]): string {
  const open = flats.filter((f) => f.step.uses === 'approval' && f.state?.status === 'running');
  return open
    .map((f) => {
      const message = (f.step.with as Record<string, unknown>).message;
      return `<section class="approval" aria-labelledby="wait-${esc(f.id)}">
<h2 id="wait-${esc(f.id)}">Waiting for a decision: ${esc(f.id)}</h2>
${typeof message === 'string' ? `<p class="message">${esc(message)}</p>` : ''}
<p><strong>Policy:</strong> <span class="policy">${esc(approvalPolicy(f.step))}</span></p>
${votes(f)}
${decisionForm(view, f)}
</section>`;
    })
    .join('\n');
}

function detail(flat: FlatStep): string {
  const s = flat.state;
  const parts: string[] = [];
  if (s?.reason) parts.push(`<span class="${s.status === 'failed' ? 'failure' : 'reason'}">${esc(s.reason)}</span>`);
  if (s?.outputs && Object.keys(s.outputs).length)
    parts.push(`<details><summary>outputs</summary><pre>${esc(JSON.stringify(s.outputs, null, 2))}</pre></details>`);
  if (flat.step.uses === 'approval' && s?.votes?.length) parts.push(`${s.votes.length} vote${s.votes.length === 1 ? '' : 's'}`);
  return parts.join(' ');
}

function steps(flats: FlatStep[]): string {
  const rows = flats.map((f) => {
    const s = f.state;
    const took = s?.started_at ? (s.ended_at ? Date.parse(s.ended_at) : Date.now()) - Date.parse(s.started_at) : undefined;
    return [
      `<code>${esc(f.id)}</code>`,
      esc(f.step.uses),
      badge(s?.status ?? 'pending'),
      esc(s?.attempt ?? ''),
      when(s?.started_at),
      esc(duration(took)),
      detail(f),
    ];
  });
  return table('Steps', ['Step', 'Uses', 'Status', 'Attempt', 'Started', 'Took', 'Detail'], rows, ' id="steps"');
}

function changes(report: Report): string {
  if (!report.changes.length) return '';
  const json = (v: unknown) => (v === undefined ? '' : `<pre>${esc(JSON.stringify(v, null, 2))}</pre>`);
  const rows = report.changes.map((c) => [
    `<code>${esc(c.step)}</code>`,
    esc(c.uses),
    badge(c.status),
    c.simulated ? 'would change' : 'changed',
    json(c.previous),
    json(c.current),
  ]);
  const title = report.run.mode === 'drill' ? 'Changes a real run would make' : 'Changes made';
  return `<h2>${title}</h2>${table(title, ['Step', 'Uses', 'Status', 'Kind', 'Before', 'After'], rows)}`;
}

function actions(view: RunView): string {
  const id = view.record.workflowId;
  const links = [`<a href="${runPath(id)}/report">Report</a>`];
  if (view.record.closed && view.record.plan.mode === 'run') links.push(`<a href="${runPath(id)}/failback">Failback plan</a>`);
  const cancel =
    view.role === 'approver' && view.report.run.state === 'running'
      ? `<form method="post" action="${runPath(id)}/cancel" class="inline">${csrfField(view.csrf)}<button type="submit" class="reject">Cancel run</button></form>`
      : '';
  return `<div class="actions">${links.join(' ')} ${cancel}</div>`;
}

/** The part of the page live.js swaps every second while the run is live; `data-final` tells it to stop. */
export function renderRunLive(view: RunView): string {
  const flats = flattenRun(view.record);
  const final = view.report.run.state !== 'running';
  return `<div id="live-body" data-final="${final}">
${facts(view)}
${actions(view)}
${waiting(view, flats)}
${steps(flats)}
<h2>Timeline</h2>
<div class="scroll gantt">${ganttSvg(view.report.timeline, view.report.origin.at)}</div>
${changes(view.report)}
</div>`;
}

/** The notice (a vote's outcome) stays above the live part, so the next swap does not take it away. */
export function renderRun(view: RunView): string {
  const notice = view.notice ? `<p class="${view.notice.kind === 'ok' ? 'notice' : 'error'}" role="status" id="notice">${esc(view.notice.text)}</p>` : '';
  return `${notice}<div id="live" data-live="${runPath(view.record.workflowId)}/live">${renderRunLive(view)}</div>`;
}
