// ServerProcess against a real child (node's own HTTP server): waits for its answer, restarts, stops by pid, and a failed start is killed and explained.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './ports.ts';
import { alive, listening, ServerProcess } from './process.ts';

const dir = mkdtempSync(join(tmpdir(), 'rebound-process-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A node child that listens on `port` after `delayMs`, printing a line first. */
function server(port: number, delayMs: number, extra: Partial<ConstructorParameters<typeof ServerProcess>[0]> = {}): ServerProcess {
  const script = `console.log('booting'); setTimeout(() => require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1'), ${delayMs});`;
  return new ServerProcess({
    name: 'test server',
    command: process.execPath,
    args: ['-e', script],
    logFile: join(dir, `server-${port}.log`),
    ready: async () => (await fetch(`http://127.0.0.1:${port}/`)).ok,
    ...extra,
  });
}

describe('ServerProcess', () => {
  it('returns from start() only once the server answers, and stop() ends it by its pid; it starts again on the same port', async () => {
    const port = await freePort();
    const proc = server(port, 300);
    await proc.start();
    expect(await listening(port)).toBe(true);
    const first = proc.pid!;
    expect(proc.running()).toBe(true);
    await proc.stop();
    expect(proc.running()).toBe(false);
    expect(alive(first)).toBe(false);
    expect(await listening(port)).toBe(false);
    await proc.start();
    expect(proc.pid).not.toBe(first);
    expect(await listening(port)).toBe(true);
    await proc.stop();
    await proc.stop(); // stopping a stopped server is a no-op
  });

  it('a server that exits before it answers fails start() with its exit code, the last readiness error and its log', async () => {
    const proc = new ServerProcess({
      name: 'broken',
      command: process.execPath,
      args: ['-e', "console.error('no config here'); process.exit(3)"],
      logFile: join(dir, 'broken.log'),
      ready: () => {
        throw new Error('not yet');
      },
    });
    await expect(proc.start()).rejects.toThrow(/^broken did not start \(exited 3\): not yet\nno config here\n$/);
    expect(proc.exitCode).toBe(3);
  });

  it('a server that never answers is killed at the deadline, not left running', async () => {
    const port = await freePort();
    const logFile = join(dir, `server-${port}.log`);
    // Readiness looks only once the child has logged: on a loaded machine node can take longer than the deadline to boot.
    const ready = async () => {
      while (!existsSync(logFile) || !readFileSync(logFile, 'utf8').includes('booting')) await new Promise((r) => setTimeout(r, 20));
      return (await fetch(`http://127.0.0.1:${port}/`)).ok;
    };
    const proc = server(port, 60_000, { timeoutMs: 500, ready });
    await expect(proc.start()).rejects.toThrow(/^test server did not start \(no answer within 0\.5 s\): fetch failed\nbooting\n$/);
    expect(proc.running()).toBe(false);
    expect(alive(proc.pid!)).toBe(false);
  });

  it('stop() kills a server that ignores its stop signal after killAfterMs', async () => {
    const port = await freePort();
    const script = `process.on('SIGTERM', () => {}); require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1');`;
    const proc = new ServerProcess({
      name: 'stubborn',
      command: process.execPath,
      args: ['-e', script],
      logFile: join(dir, 'stubborn.log'),
      ready: () => listening(port),
      killAfterMs: 300,
    });
    await proc.start();
    await proc.stop();
    expect(alive(proc.pid!)).toBe(false);
  });
});
