// Replay tests: every recorded history replays against the current interpreter, and an unguarded interpreter change fails replay.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { SCENARIOS } from './scenarios.ts';

const dir = new URL('./histories/', import.meta.url);
const histories = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const json = (file: string) => JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
const load = (file: string) => historyFromJSON(json(file));
// Child workflow ids derive from the parent's id, so replay under the recorded one.
const workflowIdOf = (file: string): string => json(file).events[0].workflowExecutionStartedEventAttributes.workflowId;

describe('replay of recorded histories', () => {
  it('has a recorded history for every scenario', () => {
    expect(histories.map((f) => f.replace(/\.json$/, ''))).toEqual(expect.arrayContaining(SCENARIOS.map((s) => s.name)));
  });

  it.each(histories)('%s replays against the current interpreter', async (file) => {
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundle') } }, load(file), workflowIdOf(file));
  });

  it('an unguarded change to the interpreter fails the replay', async () => {
    const workflowsPath = fileURLToPath(new URL('./altered-interpreter.ts', import.meta.url));
    await expect(Worker.runReplayHistory({ workflowsPath }, load('parallel-needs-if.json'), 'altered')).rejects.toThrow(DeterminismViolationError);
  });
});
