// The console's page shell: language, viewport for phones, the one stylesheet and one script the console serves itself, the navigation, who is signed in and a sign-out form.
import { csrfField, esc } from './html.ts';

export interface PageContext {
  person?: { name: string; role: 'viewer' | 'approver' };
  csrf?: string;
  /** The page's own path, so its link in the navigation is marked current. */
  path?: string;
  /** Extra <head> lines (already HTML), e.g. a <noscript> refresh while a run is live. */
  head?: string;
}

const NAV: [string, string][] = [
  ['/', 'Posture'],
  ['/runs', 'Runs'],
  ['/restore-points', 'Restore points'],
  ['/runbooks', 'Drill history'],
];

function nav(ctx: PageContext): string {
  if (!ctx.person) return '';
  const links = NAV.map(([href, label]) => `<li><a href="${href}"${ctx.path === href ? ' aria-current="page"' : ''}>${label}</a></li>`).join('');
  const who = `<span class="who">${esc(ctx.person.name)} <span class="role">(${ctx.person.role})</span></span>`;
  const out = `<form method="post" action="/logout" class="inline">${csrfField(ctx.csrf)}<button type="submit">Sign out</button></form>`;
  return `<nav aria-label="main"><ul>${links}</ul><div class="session">${who}${ctx.csrf ? out : ''}</div></nav>`;
}

export function page(title: string, body: string, ctx: PageContext): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Rebound</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/console.css">
<script src="/static/live.js" defer></script>
${ctx.head ?? ''}
</head>
<body>
<header><a class="brand" href="/">Rebound</a>${nav(ctx)}</header>
<main id="main">
<h1>${esc(title)}</h1>
${body}
</main>
</body>
</html>
`;
}
