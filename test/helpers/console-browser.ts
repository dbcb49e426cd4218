// Browser helpers for the console's e2e tests: a person signed in through the form in their own browser context, a POST made from inside a page, and the run a POST redirected to.
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** A browser session signed in through the sign-in form, like a person (a fresh context: its own cookies). */
export async function signedInAs(
  browser: Browser,
  url: string,
  token: string,
  viewport = { width: 1200, height: 900 },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${url}/runs`);
  await page.getByLabel('Your token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${url}/runs`).catch(async (error) => {
    throw new Error(`${(error as Error).message}\n${page.url()}\n${await page.content()}`);
  });
  return { context, page };
}

/** POSTs a form from inside the page (same origin, the page's cookies) and returns the status. */
export function postFrom(page: Page, path: string, fields: Record<string, string>): Promise<number> {
  return page.evaluate(
    async ([p, f]) =>
      (await fetch(p, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(f).toString() })).status,
    [path, fields] as const,
  );
}

/** The page's CSRF token (the sign-out form carries it on every signed-in page). */
export const csrfIn = (page: Page): Promise<string> => page.locator('input[name=_csrf]').first().inputValue();

/** Reloads until `check` holds, or throws after `timeoutMs` saying what it last saw. */
export async function reloadUntil(page: Page, check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 250))) {
    await page.reload();
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`after ${timeoutMs} ms the page never showed ${what}`);
  }
}
