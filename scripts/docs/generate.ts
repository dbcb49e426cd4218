// `npm run docs`: renders every page of scripts/docs/pages.ts into its file; `--check` only reports the stale ones (exit 1).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PAGES } from './pages.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const check = process.argv.includes('--check');
const stale: string[] = [];

for (const page of PAGES) {
  const file = resolve(root, page.path);
  const text = `${(await page.render()).trimEnd()}\n`;
  if (existsSync(file) && readFileSync(file, 'utf8') === text) continue;
  stale.push(page.path);
  if (check) continue;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

if (check && stale.length) {
  console.error(`stale: ${stale.join(', ')}; run npm run docs`);
  process.exitCode = 1;
} else {
  console.log(stale.length ? `${check ? 'stale' : 'wrote'}: ${stale.join(', ')}` : 'every page is up to date');
}
// The CLI's modules (pulled in by the cli page) keep handles open; the pages are written.
setTimeout(() => process.exit(), 50).unref();
