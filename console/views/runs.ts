// The runs page: a filter form (runbook, mode, state, trigger; a GET, so a filtered list is a link) and the table of recent runs.
import { LIST_STATES, LIST_TRIGGERS, type RunFilters, type RunSummary } from '../../client/run-list.ts';
import { badge, duration, esc, table, when } from '../html.ts';

function select(name: string, label: string, options: string[], chosen: string | undefined): string {
  const opts = ['', ...options]
    .map((o) => `<option value="${esc(o)}"${o === (chosen ?? '') ? ' selected' : ''}>${o === '' ? 'any' : esc(o)}</option>`)
    .join('');
  return `<div class="field"><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}">${opts}</select></div>`;
}

function filterForm(filters: RunFilters, runbooks: string[]): string {
  return `<form method="get" action="/runs" class="filters" aria-label="filter runs">
${select('runbook', 'Runbook', runbooks, filters.runbook)}
${select('mode', 'Mode', ['run', 'drill'], filters.mode)}
${select('state', 'State', LIST_STATES, filters.state)}
${select('trigger', 'Trigger', LIST_TRIGGERS, filters.trigger)}
<button type="submit">Filter</button>
</form>`;
}

function row(run: RunSummary, now: number): string[] {
  const end = run.ended_at ? Date.parse(run.ended_at) : now;
  return [
    `<a href="/runs/${encodeURIComponent(run.workflow_id)}">${esc(run.workflow_id)}</a>`,
    esc(run.runbook),
    esc(run.mode),
    badge(run.state),
    esc(run.trigger),
    when(run.started_at),
    esc(duration(end - Date.parse(run.started_at))),
  ];
}

export function renderRuns(runs: RunSummary[], filters: RunFilters, runbooks: string[], now = Date.now()): string {
  const list = runs.length
    ? table(
        `${runs.length} most recent run${runs.length === 1 ? '' : 's'}`,
        ['Run', 'Runbook', 'Mode', 'State', 'Trigger', 'Started', 'Took'],
        runs.map((r) => row(r, now)),
        ' id="runs"',
      )
    : '<p>No runs match.</p>';
  return `${filterForm(filters, runbooks)}\n${list}`;
}
