// What the restore-points page offers beside each point: for approvers a form that starts its verification (backup.verify), and the note on why drill restores are not started here.
import type { PointRecord } from '../../client/posture.ts';
import type { Role } from '../auth.ts';
import { csrfField, esc } from '../html.ts';

/** Why the page starts verifications only: a restore needs a target only a runbook names. */
export const RESTORE_NOTE =
  'Verify starts backup.verify of a point on a worker (a test restore into a scratch server the worker names, then the verdict is recorded). ' +
  'A drill restore is not started here: it needs a target (the database or cluster to restore into) that only a runbook can name; run that runbook with --mode drill.';

/** The per-point form (approvers), or nothing (viewers see the verdicts only). */
export function pointActions(role: Role, csrf: string): ((point: PointRecord) => string) | undefined {
  if (role !== 'approver') return undefined;
  let n = 0;
  return (point) => {
    const id = `scratch-${++n}`;
    return `<form method="post" action="/restore-points/verify" class="verify">${csrfField(csrf)}<input type="hidden" name="point" value="${esc(point.id)}">
<label for="${id}">Scratch URL variable (optional)</label> <input id="${id}" name="scratch_env" size="12" pattern="[A-Z_][A-Z0-9_]*" autocomplete="off">
<button type="submit">Verify ${esc(point.id)}</button></form>`;
  };
}

export function pointNote(role: Role): string {
  const who = role === 'approver' ? '' : ' Only approvers can start a verification.';
  return `<p class="hint note">${esc(RESTORE_NOTE + who)}</p>`;
}
