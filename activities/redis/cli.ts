// redis-cli as Rebound runs it: host and port in argv, the password only in REDISCLI_AUTH, failures classified.
import { runTool, type ToolRun } from '../runtime/tool.ts';
import { ActionError } from '../runtime/errors.ts';

export interface RedisTarget {
  host: string;
  port: number;
  user?: string;
  password?: string;
  tls: boolean;
}

/** Where a redis:// or rediss:// URL points; the password never becomes an argument. */
export function parseRedisUrl(url: string): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ActionError('invalid_input', 'the connection string is not a redis:// or rediss:// URL', { retryable: false });
  }
  if (!['redis:', 'rediss:'].includes(parsed.protocol) || !parsed.hostname)
    throw new ActionError('invalid_input', 'the connection string is not a redis://host:port or rediss://host:port URL', { retryable: false });
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: Number(parsed.port || 6379),
    ...(user && user !== 'default' ? { user } : {}),
    ...(password ? { password } : {}),
    tls: parsed.protocol === 'rediss:',
  };
}

/** Wrong credentials and refused commands stay wrong on a retry; a server that is down or loading may come back. */
function retryable(stderr: string): boolean {
  return !/WRONGPASS|NOAUTH|NOPERM|AUTH failed|invalid password|unknown command|Unrecognized option/i.test(stderr);
}

export function redisCli(target: RedisTarget, args: string[], options: { signal: AbortSignal; mask: (t: string) => string; command?: string }): ToolRun {
  return runTool({
    command: options.command ?? 'redis-cli',
    args: ['-h', target.host, '-p', String(target.port), ...(target.user ? ['--user', target.user] : []), ...(target.tls ? ['--tls'] : []), ...args],
    // redis-cli reads the password from here, so it never shows in ps or /proc/PID/cmdline.
    env: target.password ? { REDISCLI_AUTH: target.password } : {},
    signal: options.signal,
    mask: options.mask,
    retryable,
  });
}

const ERROR_REPLY = /^(ERR|NOAUTH|WRONGPASS|NOPERM|LOADING|BUSY|MASTERDOWN|READONLY|MISCONF)\b/;

/**
 * Runs one command and returns its raw output. `stdin` becomes the command's last argument
 * (`redis-cli -x`): how a secret (masterauth) reaches the server without being in argv.
 */
export async function redisCommand(
  target: RedisTarget,
  args: string[],
  options: { signal: AbortSignal; mask: (t: string) => string; stdin?: string },
): Promise<string> {
  const run = redisCli(target, options.stdin === undefined ? args : ['-x', ...args], options);
  if (options.stdin !== undefined) run.stdin.end(options.stdin);
  let out = '';
  run.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await run.done;
  // redis-cli exits 0 on an error reply (a wrong password included); the reply's first word says so.
  if (ERROR_REPLY.test(out)) {
    const reply = options.mask(out.trim().split('\n')[0]!);
    const code = /^(NOAUTH|WRONGPASS)/.test(reply) ? 'auth_failed' : 'backend_error';
    throw new ActionError(code, `redis-cli ${args[0]}: ${reply}${code === 'auth_failed' ? ' (check the password in the secret)' : ''}`, {
      retryable: retryable(reply),
    });
  }
  return out;
}

/** Keys per database from `INFO keyspace` ("db0:keys=12,expires=0,..."), summed. */
export function keysIn(info: string): number {
  let total = 0;
  for (const match of info.matchAll(/^"?db\d+:keys=(\d+)/gm)) total += Number(match[1]);
  return total;
}

export function versionIn(info: string): string {
  return /redis_version:([^\r\n"]+)/.exec(info)?.[1] ?? 'unknown';
}
