// Builds dist/ for `npm pack` (its prepack): the compiled JavaScript, the prebuilt workflow bundle, and the files the code reads at run time.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWorkflowBundle } from '../worker/bundle.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
/** The compiled folders: tsconfig.build.json's `include`, so the list lives in one place. */
const FOLDERS = (JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] }).include;

/** Every file under `dir` that is not TypeScript: stylesheets, scripts the console serves, SQL migrations, a server's Python, Go and Maven sources. */
function assets(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === '__pycache__' ? [] : assets(path);
    return entry.name.endsWith('.ts') || entry.name.includes('.test.') ? [] : [path];
  });
}

function copy(files: string[]): void {
  for (const file of files) {
    const to = join(DIST, relative(ROOT, file));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(file, to);
  }
}

// A clean folder: a file whose source is gone must not ship.
rmSync(DIST, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], {
  cwd: ROOT,
  stdio: 'inherit',
});
if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${tsc.status ?? tsc.signal})`);
// worker/worker.ts finds it beside the compiled code, so `rebound worker` starts without webpack.
await buildWorkflowBundle(join(DIST, 'workflow-bundle.js'));
copy(FOLDERS.flatMap((folder) => assets(join(ROOT, folder))));
// The demos name their runbooks beside the compiled cli/ (dist/runbooks/); the package's runbooks/ is the one users read.
copy(
  readdirSync(join(ROOT, 'runbooks'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(ROOT, 'runbooks', f)),
);
console.log(`rebound: built ${relative(process.cwd(), DIST) || '.'}`);
