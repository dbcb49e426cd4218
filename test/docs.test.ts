// The documentation stays true to the code: every generated page equals what `npm run docs` renders now, and every relative link in README.md, ARCHITECTURE.md, SECURITY.md and docs/ reaches a file and heading.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PAGES } from '../scripts/docs/pages.ts';
import { anchor } from '../scripts/docs/page.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

describe('generated documentation', () => {
  it.each(PAGES.map((p) => [p.path, p] as const))('%s is up to date (npm run docs)', async (path, page) => {
    expect(existsSync(join(root, path)), `${path} is missing: run npm run docs`).toBe(true);
    const rendered = `${(await page.render()).trimEnd()}\n`;
    // A plain equality would print both pages; name the first line that differs instead.
    const [now, fresh] = [read(path).split('\n'), rendered.split('\n')];
    const line = fresh.findIndex((l, i) => l !== now[i]);
    const at = line === -1 ? (now.length === fresh.length ? -1 : fresh.length) : line;
    expect(at, `${path} is stale from line ${at + 1} (run npm run docs):\n  file:     ${now[at]}\n  rendered: ${fresh[at]}`).toBe(-1);
  });
});

/** Headings of a Markdown file as GitHub anchors them, code blocks left out. */
function anchors(text: string): Set<string> {
  const withoutCode = text.replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!.trim())));
}

const documents = ['README.md', 'ARCHITECTURE.md', 'SECURITY.md', ...readdirSync(join(root, 'docs')).map((f) => `docs/${f}`)].filter((f) => f.endsWith('.md'));

describe('documentation links', () => {
  it.each(documents)('every relative link in %s reaches a file (and heading)', (doc) => {
    const broken: string[] = [];
    const text = read(doc).replace(/^```[\s\S]*?^```/gm, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue;
      const [path, hash] = target!.split('#') as [string, string | undefined];
      const file = path ? join(dirname(doc), path) : doc;
      if (!existsSync(join(root, file))) {
        broken.push(`${target}: no file ${file}`);
        continue;
      }
      if (hash && file.endsWith('.md') && !anchors(read(file)).has(hash)) broken.push(`${target}: no heading #${hash} in ${file}`);
    }
    expect(broken).toEqual([]);
  });
});
