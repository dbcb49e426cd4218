// A runbook's drill history as an auditor takes it: the trend chart, then one row per drill (date, trigger, state, RTO/RPO against objectives, who approved what), newest first.
import type { ApprovalRecord, DrillRecord } from '../../client/drill-history.ts';
import type { Objective } from '../../contract/run.ts';
import { trendChart } from '../chart.ts';
import { badge, duration, esc, table, when } from '../html.ts';

function measured(o: Objective | undefined, objective: number | undefined): string {
  const target = o?.objective_ms ?? objective;
  const value = o?.measured_ms === undefined ? 'not measured' : duration(o.measured_ms);
  const verdict = o?.met === undefined ? '' : o.met ? ' <span class="met">met</span>' : ' <strong class="missed">missed</strong>';
  return `${esc(value)}${target !== undefined ? ` <span class="of">/ ${esc(duration(target))}</span>` : ''}${verdict}`;
}

function approval(a: ApprovalRecord): string {
  const decided = a.decision ? `${esc(a.decision)}${a.timed_out ? ' (timed out)' : ''}` : esc(a.status);
  const who = a.approved_by.length ? ` by ${a.approved_by.map((p) => esc(p)).join(', ')}` : a.by ? ` by ${esc(a.by)}` : '';
  const reason = a.reason ? `: “${esc(a.reason)}”` : '';
  const refused = a.votes.filter((v) => !v.counted);
  const ballots = refused.length
    ? `<br><span class="refused">refused: ${refused.map((v) => `${esc(v.by)} (${esc(v.refused ?? 'not counted')})`).join('; ')}</span>`
    : '';
  return `<code>${esc(a.step)}</code> ${decided}${who}${reason}${ballots}`;
}

function row(d: DrillRecord): string[] {
  const trigger = `${esc(d.trigger.kind)}${d.trigger.by ? ` <span class="by">${esc(d.trigger.by)}</span>` : ''}`;
  const run = `<a href="/runs/${encodeURIComponent(d.workflow_id)}"><code>${esc(d.workflow_id)}</code></a>`;
  return [
    when(d.started_at),
    run,
    trigger,
    `${badge(d.state)}${d.error ? `<br><span class="why">${esc(d.error)}</span>` : ''}`,
    measured(d.rto, d.objectives.rto_ms),
    measured(d.rpo, d.objectives.rpo_ms),
    d.approvals.length ? d.approvals.map(approval).join('<br>') : 'none',
  ];
}

/** The drill history of `runbook` as an HTML fragment (no page shell), every value escaped; `records` newest first, as loadDrillHistory returns them. */
export function renderDrillHistory(runbook: string, records: DrillRecord[]): string {
  if (!records.length) return `<p>No drills of <strong>${esc(runbook)}</strong> on record.</p>`;
  const series = records.map((d) => ({
    at: d.started_at,
    ...(d.rto?.measured_ms !== undefined ? { rto_ms: d.rto.measured_ms } : {}),
    ...(d.rpo?.measured_ms !== undefined ? { rpo_ms: d.rpo.measured_ms } : {}),
  }));
  const objectives = records[0]!.objectives;
  const met = records.filter((d) => d.rto?.met === true).length;
  const judged = records.filter((d) => d.rto?.met !== undefined).length;
  const summary = `<p class="summary">${records.length} drill(s) of <strong>${esc(runbook)}</strong>; RTO met in ${met} of ${judged} judged.</p>`;
  const chart = `<figure class="trend">${trendChart(series, objectives)}<figcaption>Measured RTO and RPO of each drill (dashed: the objective).</figcaption></figure>`;
  const rows = table(
    `Drills of ${runbook}, newest first`,
    ['Date', 'Run', 'Trigger', 'State', 'RTO / objective', 'RPO / objective', 'Approvals'],
    records.map(row),
    ' class="drills"',
  );
  return `${summary}\n${chart}\n${rows}`;
}
