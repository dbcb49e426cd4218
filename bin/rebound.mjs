#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=2 --heap-growing-percent=50
// The `rebound` command. In a checkout the TypeScript sources run through tsx, so `npx rebound` works after `npm ci`;
// the package `npm pack` makes holds no sources, and runs the JavaScript its prepack compiled into dist/ (no tsx there).
// The shebang holds a worker's memory down (P2: peak 253 MB instead of 305 during 1 GB dumps): V8's
// young generation capped at 2 MB per isolate (main, workflow and tsx threads) instead of 16,
// and two malloc arenas instead of up to eight per core, which buffers freed on other threads fragment.
// Its heap-growing factor of 1.5 spaces out the full GCs that a dump's stream of buffers triggers:
// one every ~16 MB streamed, ~100 ms of CPU each, took pg_dump's core from it on 2 cores (P2 0.88×
// → 0.92×; at 2.0 MongoDB dumps held over 300 MB of dead buffers between GCs).
import { existsSync } from 'node:fs';

// The sources decide, not dist/: a checkout keeps running them though `npm pack` left a dist/ behind.
const sources = new URL('../cli/main.ts', import.meta.url);
let main;
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
await main(process.argv);
