// `rebound demo` as a user runs it: the embedded stack starts, the drill succeeds, the report is printed, it exits 0 and leaves no process behind.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, commandOf, descendants } from '../helpers/processes.ts';
import { REBOUND_BIN } from '../helpers/worker-process.ts';

// Its own data folder: the demo's Temporal server must not share a SQLite file with a developer's `rebound dev`.
const scratch = mkdtempSync(join(tmpdir(), 'rebound-demo-'));
let leftover: number[] = [];
afterAll(() => {
  // Only if the test failed half-way: kill what the demo left, by pid.
  for (const pid of leftover.filter(alive)) process.kill(pid, 'SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

/** Whether anything accepts a TCP connection on 127.0.0.1:port right now. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.setTimeout(2000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

describe('rebound demo', () => {
  // Installs nothing new (the global setup has the Temporal CLI) but starts a server with its Web UI and a worker: slow on a loaded machine.
  it('runs the example drill to success, prints the report, exits 0 and stops its Temporal server', { timeout: 300_000 }, async () => {
    const child = spawn(process.execPath, [REBOUND_BIN, 'demo'], {
      env: { ...process.env, REBOUND_DATA_DIR: scratch, TEMPORAL_ADDRESS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    // Every descendant seen while it ran, with its command line: the Temporal server is one, and must not outlive the demo.
    const seen = new Map<number, string>();
    const poll = setInterval(() => {
      // Read again each time: a child caught between fork and exec still shows its parent's command line.
      for (const pid of descendants(child.pid!)) {
        const command = commandOf(pid);
        // A zombie's command line is empty: keep what the live process showed.
        if (command !== '(gone)' && (command !== '' || !seen.has(pid))) seen.set(pid, command);
      }
    }, 200);
    const exited = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGTERM'), 240_000);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        clearInterval(poll);
        resolve({ code, signal });
      });
    });
    leftover = [...seen.keys()];

    expect(exited, output).toEqual({ code: 0, signal: null });
    // It started the stack and says where.
    const started = /Temporal 127\.0\.0\.1:(\d+), Web UI (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
    expect(started, output).not.toBeNull();
    // The drill went through (the README's outage: a primary answering 503, a healthy standby).
    expect(output).toMatch(/\[drill\] — succeeded/);
    expect(output).toContain('run succeeded');
    // The report, judged against the runbook's objectives.
    expect(output).toMatch(/drill report: RTO: measured \S+, objective \S+ — met; RPO: /);
    expect(output).toContain(`Web UI: ${started![2]}`);
    expect(output).toContain('stack stopped');

    // Nothing it started survives it: the server process was seen, and is gone (given a moment
    // to be reaped); its ports answer no more.
    const listing = [...seen].map(([pid, command]) => `${pid}: ${command}`).join('\n');
    expect(
      [...seen.values()].some((command) => command.includes('server start-dev')),
      `descendants seen:\n${listing}`,
    ).toBe(true);
    const deadline = Date.now() + 15_000;
    while (leftover.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(leftover.filter(alive).map((pid) => `${pid}: ${seen.get(pid)}`)).toEqual([]);
    expect(await answers(Number(started![1]))).toBe(false);
    expect(await answers(Number(new URL(started![2]).port))).toBe(false);
  });
});
