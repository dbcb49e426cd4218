// The failback page: what the run changed and what becomes of each change (client/failback.ts), the generated plan's steps, and for approvers a form that starts it (as a rehearsal drill or for real).
import type { Failback } from '../../client/failback.ts';
import type { Mode } from '../../contract/plan.ts';
import type { Role } from '../auth.ts';
import { csrfField, esc, table } from '../html.ts';

export function renderFailback(run: string, failback: Failback, mode: Mode, role: Role, csrf: string): string {
  const items = failback.items.map((i) => [`<code>${esc(i.step)}</code>`, esc(i.uses), esc(i.action), esc(i.failback_step ?? ''), esc(i.detail)]);
  const steps = failback.plan.steps.map((s) => [`<code>${esc(s.id)}</code>`, esc(s.uses), esc(s.impact), `<pre>${esc(JSON.stringify(s.with, null, 2))}</pre>`]);
  const modes = (['drill', 'run'] as Mode[])
    .map((m) => `<a href="?mode=${m}"${m === mode ? ' aria-current="true"' : ''}>${m === 'drill' ? 'as a drill' : 'for real'}</a>`)
    .join(' · ');
  const start =
    role === 'approver' && failback.plan.steps.length
      ? `<form method="post" action="/runs/${encodeURIComponent(run)}/failback" class="decide">${csrfField(csrf)}<input type="hidden" name="mode" value="${mode}">
<button type="submit" class="${mode === 'run' ? 'reject' : 'approve'}">Start the failback ${mode === 'drill' ? 'as a drill' : 'for real'}</button></form>`
      : role === 'approver'
        ? ''
        : '<p class="hint">Only approvers can start a failback.</p>';
  return `<p>Plan: ${modes}</p>
${items.length ? table(`What ${run} changed, newest first`, ['Step', 'Uses', 'Becomes', 'Failback step', 'Detail'], items, ' id="failback-items"') : `<p>${esc(run)} made no production change: nothing to fail back.</p>`}
${steps.length ? `<h2>Failback plan</h2>${table(`${failback.plan.name} (${mode})`, ['Step', 'Uses', 'Impact', 'With'], steps, ' id="failback-steps"')}` : ''}
${start}`;
}
