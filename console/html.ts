// Small helpers every console view shares: escaping (the report's, so one function escapes everything), times and durations, tables and state badges.
import { escapeXml } from '../client/report/gantt.ts';

export const esc = (value: unknown): string => escapeXml(value === undefined || value === null ? '' : String(value));

/** A time as the page shows it: UTC, to the second, in a <time> element a reader (and a test) can parse. */
export function when(iso: string | undefined): string {
  if (!iso) return '';
  return `<time datetime="${esc(iso)}">${esc(iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}</time>`;
}

export function duration(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A state word in a badge: colour from its class, the word itself always written (colour is never the only cue). */
export function badge(state: string): string {
  return `<span class="badge s-${esc(state.replace(/[^a-z_]/g, ''))}">${esc(state.replace('_', ' '))}</span>`;
}

/** A table with a caption and a header row; `cells` are HTML already escaped by the caller. */
export function table(caption: string, head: string[], rows: string[][], attrs = ''): string {
  const th = head.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<div class="scroll"><table${attrs}><caption>${esc(caption)}</caption><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

/** The hidden field every form carries (csrf.ts checks it on every POST). */
export const csrfField = (token: string | undefined): string => (token ? `<input type="hidden" name="_csrf" value="${esc(token)}">` : '');
