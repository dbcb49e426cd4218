// Replay tests: every recorded history replays against the current interpreter, and an unguarded interpreter change fails replay.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { SCENARIOS } from './scenarios.ts';
import { LATER_PATCHES } from '../../workflows/patches.ts';

const dir = new URL('./histories/', import.meta.url);
const histories = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const json = (file: string) => JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
const load = (file: string) => historyFromJSON(json(file));
// Child workflow ids derive from the parent's id, so replay under the recorded one.
const workflowIdOf = (file: string): string => json(file).events[0].workflowExecutionStartedEventAttributes.workflowId;

interface Marked {
  kind: string;
  patch?: string;
}
/** Each event's kind (a marker by its name), and the patch id a patch marker records. */
function markersOf(file: string): Marked[] {
  return json(file).events.map(
    (e: { eventType: string; markerRecordedEventAttributes?: { markerName: string; details?: Record<string, { payloads: { data: string }[] }> } }) => {
      const marker = e.markerRecordedEventAttributes;
      if (!marker) return { kind: e.eventType.replace('EVENT_TYPE_', '') };
      const data = marker.details?.['patch-data']?.payloads[0]?.data;
      return { kind: marker.markerName, ...(data ? { patch: JSON.parse(Buffer.from(data, 'base64').toString()).id } : {}) };
    },
  );
}

describe('replay of recorded histories', () => {
  it('has a recorded history for every scenario', () => {
    expect(histories.map((f) => f.replace(/\.json$/, ''))).toEqual(expect.arrayContaining(SCENARIOS.map((s) => s.name)));
  });

  it.each(histories)('%s replays against the current interpreter', async (file) => {
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundle') } }, load(file), workflowIdOf(file));
  });

  // Captured under load (3 CPU hogs, status queries while verify_plan ran): the local activity's
  // marker closed the first workflow task and the step's commands landed in the next. Recorded
  // before early-patches, such a history failed replay on validate-builtin-inputs.
  it('a run whose first local activity ended a workflow task replays, its patches decided before it', async () => {
    const file = 'approval-rejected-split-task.json';
    const kinds = markersOf(file).map((m) => m.kind);
    const firstLocal = kinds.indexOf('core_local_activity');
    expect(kinds[firstLocal + 1]).toBe('WORKFLOW_TASK_SCHEDULED');
    expect(
      markersOf(file)
        .filter((m) => m.patch)
        .map((m) => m.patch),
      // The patches there were when it was recorded: one added since is absent, and its replay takes the old path.
    ).toEqual(['early-patches', 'validate-builtin-inputs', 'approval-policy', 'failure-catalog', 'trusted-plans']);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundle') } }, load(file), workflowIdOf(file));
  });

  it.each(histories)('%s: under early-patches, every patch marker comes before the first local activity', (file) => {
    const markers = markersOf(file);
    if (!markers.some((m) => m.patch === 'early-patches')) return;
    const kinds = markers.map((m) => m.kind);
    expect(kinds.lastIndexOf('core_patch')).toBeLessThan(kinds.indexOf('core_local_activity'));
  });

  // A patch asked for only where it is used would be decided late again, and split-task replays
  // would break the way they did before early-patches.
  it('every patch the workflow code asks about after the start is decided early', () => {
    const root = new URL('../../workflows/', import.meta.url);
    const asked = readdirSync(root)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .flatMap((f) => [...readFileSync(new URL(f, root), 'utf8').matchAll(/patched\('([^']+)'\)/g)].map((m) => m[1]));
    const early = new Set<string>([...LATER_PATCHES, 'early-patches', 'trusted-plans']);
    expect(asked.filter((id) => !early.has(id))).toEqual([]);
    expect(new Set(asked)).toEqual(early);
  });

  it('an unguarded change to the interpreter fails the replay', async () => {
    const workflowsPath = fileURLToPath(new URL('./altered-interpreter.ts', import.meta.url));
    await expect(Worker.runReplayHistory({ workflowsPath }, load('parallel-needs-if.json'), 'altered')).rejects.toThrow(DeterminismViolationError);
  });
});
