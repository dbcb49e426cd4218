// The embedded stack as a user meets it: `rebound dev` stopped by a signal, and a checkout in a mode-700 folder.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, commandOf, descendants } from '../helpers/processes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'rebound-stack-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Watched {
  child: ChildProcess;
  output: () => string;
  /** Every descendant seen while it ran (polled), so a child that outlived it is caught. */
  seen: Set<number>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function watch(args: string[], options: { cwd: string; env?: Record<string, string> }): Watched {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const seen = new Set<number>();
  const poll = setInterval(() => descendants(child.pid!).forEach((pid) => seen.add(pid)), 250);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal });
    }),
  );
  return { child, output: () => output, seen, exited };
}

async function until(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Survivors get a moment to exit (SIGKILLed children are reaped asynchronously). */
async function survivors(pids: Iterable<number>): Promise<string[]> {
  const list = [...pids];
  await until(
    () => list.every((pid) => !alive(pid)),
    15_000,
    () => '',
  ).catch(() => undefined);
  return list.filter(alive).map((pid) => `${pid}: ${commandOf(pid)}`);
}

describe('rebound dev', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s stops the worker and the Temporal server, exits 0 and leaves no process behind', async (signal) => {
    const dev = watch([join(ROOT, 'bin/rebound.mjs'), 'dev'], { cwd: ROOT, env: { REBOUND_DATA_DIR: join(scratch, `dev-${signal}`) } });
    await until(() => dev.output().includes('Web UI:') && dev.seen.size > 0, 90_000, dev.output);
    expect([...dev.seen].map(commandOf).some((c) => c.includes('server start-dev'))).toBe(true);
    dev.child.kill(signal);
    const { code } = await dev.exited;
    expect(dev.output()).toContain('rebound dev: stopped');
    expect(dev.output()).not.toContain('Not running');
    expect(code).toBe(0);
    expect(await survivors(dev.seen)).toEqual([]);
  });
});

describe('a checkout the postgres user cannot enter', () => {
  it('runs the backup demo from a mode-700 folder and stops everything it started', async () => {
    // A copy of the working tree (tracked and new files) inside a folder only root may enter,
    // as a clone into a root home directory is; the installed packages and tools are shared.
    const home = join(scratch, 'home');
    mkdirSync(home, { mode: 0o700 });
    chmodSync(home, 0o700);
    const checkout = join(home, 'rebound');
    const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
      .stdout.split('\0')
      .filter(Boolean);
    for (const file of files) {
      mkdirSync(dirname(join(checkout, file)), { recursive: true });
      cpSync(join(ROOT, file), join(checkout, file));
    }
    symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
    const demo = watch([join(checkout, 'bin/rebound.mjs'), 'demo', 'backup'], { cwd: checkout, env: { REBOUND_TOOLS_DIR: join(ROOT, '.tools') } });
    const { code } = await demo.exited;
    expect(demo.output()).not.toContain('Permission denied');
    expect(demo.output()).toContain('== restore drill');
    expect(code, demo.output()).toBe(0);
    expect(await survivors(demo.seen)).toEqual([]);
  }, 240_000);
});
