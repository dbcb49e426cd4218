// The console in a real browser (Debian's Chromium driven by playwright-core) against a real Temporal server and a worker process: viewer and approver sign in; a waiting run is approved from the page and followed live to success; a viewer cannot approve; a POST without the form token is refused; three drills fired by a real Temporal Schedule in drill mode are three points on the trend chart. Screenshots go to .data/console/ (and docs/console.png with REBOUND_UPDATE_SCREENSHOTS=1).
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { finalStatus, startRun } from '../../client/runs.ts';
import { reconcileSchedules } from '../../client/schedules.ts';
import { ensureChromium } from '../../stack/chromium.ts';
import { voteAs } from '../helpers/approvals.ts';
import { startTestConsole, type ConsoleUnderTest } from '../helpers/console.ts';
import { connect, planOf, stepOf, uniqueSite, waitFor } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const SHOTS = join(process.cwd(), '.data', 'console');
const site = uniqueSite('console');
let worker: WorkerProcess;
let client: Client;
let browser: Browser;
let app: ConsoleUnderTest;

const DRILLED = `drilled-${site}`;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [worker, client] = await Promise.all([
    startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), startTimeoutMs: 120_000 }),
    connect(inject('temporalAddress')),
  ]);
  const drills = `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: ${DRILLED}}\nspec:\n  objectives: {rto: 5m}\n  steps:\n    - {id: check, uses: log, with: {message: drill}}\n`;
  app = await startTestConsole(client, { taskQueue: `rebound-${site}`, posture: { runbooks: () => [{ file: 'drilled.yaml', plan: planOf(drills) }] } });
  browser = await chromium.launch({ executablePath: ensureChromium(), args: ['--no-sandbox'] });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await worker?.kill();
  await client?.connection.close();
});

const gated = planOf(`apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: console-gated}\nspec:
  steps:
    - {id: gate, uses: approval, with: {message: "Fail over the orders database?", approvers: [alice, bob], timeout: 10m}}
    - {id: confirm, uses: approval, needs: [gate], with: {message: "Traffic looks healthy?", approvers: [bob], timeout: 10m}}
    - {id: done, uses: log, needs: [confirm], with: {message: "approved by \${{ steps.gate.outputs.by }}"}}
`);

/** A browser session signed in through the form, like a person. */
async function signedIn(who: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${app.url}/runs`);
  expect(page.url()).toContain('/login?next=%2Fruns');
  await page.getByLabel('Your token').fill(app.tokens[who]!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${app.url}/runs`).catch(async (error) => {
    throw new Error(`${(error as Error).message}\n${page.url()}\n${await page.content()}`);
  });
  return { context, page };
}

/** POSTs a form from inside the page (same origin, the page's cookies) and returns the status. */
function postFromPage(page: Page, path: string, fields: Record<string, string>): Promise<number> {
  return page.evaluate(
    async ([p, f]) =>
      (await fetch(p, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(f).toString() })).status,
    [path, fields] as const,
  );
}

describe('the console in a browser', () => {
  it(
    'a viewer sees the waiting approval but no button, and is refused; an approver approves from the page and watches the run finish without a reload',
    { timeout: 180_000 },
    async () => {
      const handle = await startRun(client, gated, {}, { taskQueue: `rebound-${site}`, startedBy: 'operator' });
      await waitFor(handle, (s) => stepOf(s, 'gate').status === 'running');
      const runUrl = `${app.url}/runs/${encodeURIComponent(handle.workflowId)}`;

      const viewer = await signedIn('vic');
      await viewer.page.goto(`${app.url}/runs?state=running`);
      await viewer.page.getByRole('link', { name: handle.workflowId }).click();
      await expect.poll(() => viewer.page.locator('.policy').first().textContent()).toContain('1 of alice, bob; not by who started the run');
      expect(await viewer.page.getByRole('button', { name: /Approve/ }).count()).toBe(0);
      expect(await viewer.page.getByText('only approvers can decide').count()).toBe(1);
      const viewerCsrf = await viewer.page.locator('input[name=_csrf]').first().inputValue();
      expect(await postFromPage(viewer.page, `/runs/${encodeURIComponent(handle.workflowId)}/approvals/gate`, { _csrf: viewerCsrf, decision: 'approve' })).toBe(
        403,
      );
      await viewer.page.screenshot({ path: join(SHOTS, 'run-waiting-viewer.png'), fullPage: true });

      const approver = await signedIn('alice');
      await approver.page.goto(runUrl);
      // Without the form token, the same POST is refused even for an approver.
      expect(await postFromPage(approver.page, `/runs/${encodeURIComponent(handle.workflowId)}/approvals/gate`, { decision: 'approve' })).toBe(403);
      await approver.page.screenshot({ path: join(SHOTS, 'run-waiting-approver.png'), fullPage: true });
      await approver.page.getByLabel('Reason (a rejection needs one)').fill('primary region is down');
      await approver.page.getByRole('button', { name: 'Approve gate' }).click();
      await approver.page.waitForURL(runUrl);
      await expect.poll(() => approver.page.locator('#notice').textContent()).toBe('Your approve of gate was counted.');
      await expect.poll(() => approver.page.locator('.approval h2').textContent()).toBe('Waiting for a decision: confirm');

      // From here the page is not reloaded: live.js must bring the rest in.
      let navigations = 0;
      approver.page.on('framenavigated', (frame) => frame === approver.page.mainFrame() && navigations++);
      await voteAs(client, handle.workflowId, 'confirm', 'bob');
      await expect.poll(() => approver.page.locator('#run-state').textContent(), { timeout: 60_000 }).toBe('succeeded');
      expect(navigations).toBe(0);
      expect(await approver.page.locator('#steps').textContent()).toContain('done');
      expect(await approver.page.locator('.gantt svg rect[fill="#2e7d32"]').count()).toBe(3);
      expect(stepOf(await finalStatus(handle), 'gate').votes).toEqual([
        expect.objectContaining({ by: 'alice', channel: 'token', counted: true, reason: 'primary region is down' }),
      ]);
      await approver.page.screenshot({ path: join(SHOTS, 'run-succeeded.png'), fullPage: true });
      // The README's picture is refreshed only when asked, so a test run leaves the checkout clean.
      if (process.env.REBOUND_UPDATE_SCREENSHOTS === '1') copyFileSync(join(SHOTS, 'run-succeeded.png'), join(process.cwd(), 'docs', 'console.png'));

      // The served report opens under its own CSP, its inline style allowed by hash: nothing is blocked.
      const blocked: string[] = [];
      approver.page.on('console', (m) => m.type() === 'error' && blocked.push(m.text()));
      await approver.page.getByRole('link', { name: 'Report' }).click();
      await approver.page.waitForURL(`${runUrl}/report`);
      expect(await approver.page.locator('h1').textContent()).toContain('console-gated');
      expect(await approver.page.evaluate(() => getComputedStyle(document.body).fontFamily)).toContain('sans-serif');
      expect(blocked).toEqual([]);
      await viewer.context.close();
      await approver.context.close();
    },
  );

  it('three scheduled drills of a runbook are three points on its trend chart', { timeout: 240_000 }, async () => {
    // A Temporal Schedule in drill mode, as `rebound schedule apply` makes it; fired three times
    // by hand (each after the last finished), so the test waits on runs, not on a clock.
    const text = `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: ${DRILLED}}\nspec:\n  objectives: {rto: 5m}\n  triggers:\n    schedule: {every: 24h, mode: drill}\n  steps:\n    - {id: check, uses: log, with: {message: drill}}\n`;
    const plan = planOf(text, { mode: 'drill' });
    const desired = { id: DRILLED, file: 'drilled.yaml', plan, schedule: plan.triggers.schedule!, taskQueue: `rebound-${site}` };
    await reconcileSchedules(client, [desired], { dryRun: false, prune: false });
    const schedule = client.schedule.getHandle(DRILLED);
    try {
      for (let fired = 1; fired <= 3; fired++) {
        await schedule.trigger();
        await expect
          .poll(
            async () => {
              const runs = [];
              for await (const r of client.workflow.list({ query: `ReboundRunbook = '${DRILLED}' AND ExecutionStatus = 'Completed'` })) runs.push(r);
              return runs.length;
            },
            { timeout: 60_000, interval: 500 },
          )
          .toBe(fired);
      }
    } finally {
      await schedule.delete();
    }
    const { context, page } = await signedIn('vic');
    await page.goto(`${app.url}/runbooks`);
    await page.getByRole('link', { name: DRILLED }).click();
    await expect.poll(() => page.locator('svg circle.point.rto').count(), { timeout: 30_000 }).toBe(3);
    // The auditor's table: one row per drill, each started by the schedule.
    const rows = await page.locator('main table tbody tr').allTextContents();
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(/\bschedule\b/);
    await page.screenshot({ path: join(SHOTS, 'drill-history.png'), fullPage: true });
    await context.close();
  });
});
