// The console's posture, restore-point, failback and phone pages in a real browser (Debian's Chromium via playwright-core) against the real Temporal server, a worker process, a file-store catalog and a real HAProxy: a service goes from green to red as its point ages past the RPO, failing rows come first, a drill trend is charted; points show their evidence, "latest verified before T" answers, an approver starts a verification (a viewer cannot); a failback started from the page restores HAProxy; the pages fit a phone.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { command, parseLocation, readServers } from '../../activities/routing/haproxy.ts';
import { openRestorePoints } from '../../activities/restore-points/index.ts';
import { finalStatus, startRun } from '../../client/runs.ts';
import { ensureChromium } from '../../stack/chromium.ts';
import { startHaproxy, type HaproxyServer } from '../../stack/haproxy.ts';
import { startTestConsole, type ConsoleUnderTest } from '../helpers/console.ts';
import { csrfIn, postFrom, reloadUntil, signedInAs } from '../helpers/console-browser.ts';
import { startHttpServer } from '../helpers/http-server.ts';
import { writePoint } from '../helpers/points.ts';
import { connect, planOf, uniqueSite } from '../helpers/runs.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const SHOTS = join(process.cwd(), '.data', 'console');
const site = uniqueSite('console-posture');
const taskQueue = `rebound-${site}`;
const root = mkdtempSync(join(tmpdir(), 'rebound-console-points-'));
const storage = `file://${root}`;
const FRESH = `fresh-${site}`;
const FAILING = `failing-${site}`;
const CORRUPT = `corrupt-${site}`;
const RPO_BOOK = `rpo-${site}`;
const DRILLED = `trend-${site}`;
let worker: WorkerProcess;
let client: Client;
let browser: Browser;
let app: ConsoleUnderTest;
let haproxy: HaproxyServer;
let backends: Awaited<ReturnType<typeof startHttpServer>>[] = [];
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
let olderVerified: string;
let corruptId: string;

const rpoText = `apiVersion: rebound/v1
kind: Runbook
metadata: {name: ${RPO_BOOK}}
spec:
  objectives: {rpo: 5s}
  secrets: {pg: {env: PG_URL}}
  steps:
    - {id: fresh, uses: postgres.dump, with: {source: "\${{ secrets.pg }}", service: ${FRESH}, storage: {url: "${storage}"}}}
    - {id: failing, uses: postgres.dump, with: {source: "\${{ secrets.pg }}", service: ${FAILING}, storage: {url: "${storage}"}}}
`;
const drillText = `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: ${DRILLED}}\nspec:\n  objectives: {rto: 5m}\n  steps:\n    - {id: check, uses: log, with: {message: drill}}\n`;

const location = () => parseLocation(haproxy.statsSocket.tcp);
async function weights(): Promise<Record<string, number>> {
  return Object.fromEntries([...(await readServers(location(), 'web'))].map(([name, s]) => [name, s.weight]));
}

beforeAll(async () => {
  const side = (name: string) => startHttpServer({ '/': (_q, res) => void res.writeHead(200).end(name) });
  backends = [await side('primary'), await side('standby')];
  const host = (s: (typeof backends)[number]) => new URL(s.url('/')).host;
  [worker, client, haproxy] = await Promise.all([
    startWorkerProcess({ address: inject('temporalAddress'), site, bundle: inject('workflowBundle'), startTimeoutMs: 120_000 }),
    connect(inject('temporalAddress')),
    startHaproxy({ backends: { web: { servers: { primary: host(backends[0]!), standby: host(backends[1]!) } } } }),
  ]);
  olderVerified = writePoint(root, { service: FRESH, completed_at: ago(3_600_000), status: 'verified' });
  writePoint(root, { service: FAILING, completed_at: ago(1000), status: 'failed' });
  corruptId = writePoint(root, { service: CORRUPT, completed_at: ago(60_000) });
  // A byte flipped after the manifest was written: verification must find it.
  writeFileSync(join(root, CORRUPT, 'postgres', corruptId, 'data.pgdump'), `NOT a real dump: ${corruptId}\n`);
  const points = openRestorePoints({ url: storage, region: 'us-east-1', force_path_style: true });
  const runbooks = [
    { file: 'rpo.yaml', plan: planOf(rpoText) },
    { file: 'trend.yaml', plan: planOf(drillText) },
  ];
  app = await startTestConsole(client, { taskQueue, posture: { runbooks: () => runbooks, points, storageUrl: storage } });
  browser = await chromium.launch({ executablePath: ensureChromium(), args: ['--no-sandbox'] });
  mkdirSync(SHOTS, { recursive: true });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await worker?.kill();
  await haproxy?.stop();
  await Promise.all(backends.map((s) => s.close()));
  await client?.connection.close();
});

const serviceRow = (page: Page, name: string) => page.locator('table.services tbody tr', { hasText: name });
const rowNames = (page: Page, table: string) => page.locator(`table.${table} tbody tr td:first-child strong`).allTextContents();

describe('the posture page in a browser', () => {
  it(
    'shows a fresh point green, then red once it is older than the 5 s RPO; failing rows first; a runbook row charts its drills',
    { timeout: 180_000 },
    async () => {
      const drill = planOf(drillText, { mode: 'drill' });
      for (let i = 0; i < 2; i++) expect((await finalStatus(await startRun(client, drill, {}, { taskQueue }))).state).toBe('succeeded');
      const { context, page } = await signedInAs(browser, app.url, app.tokens.vic!);
      writePoint(root, { service: FRESH, completed_at: new Date().toISOString(), status: 'verified' });
      await page.goto(`${app.url}/`);
      // Within 80 % of the RPO it is green; a slow load may catch it amber, never red.
      expect(await serviceRow(page, FRESH).locator('.badge').first().getAttribute('class')).toMatch(/c-(green|amber)/);
      expect(await serviceRow(page, FAILING).locator('.badge').first().textContent()).toBe('failing');
      expect(await rowNames(page, 'services')).toEqual([FAILING, FRESH]);
      await reloadUntil(page, async () => (await serviceRow(page, FRESH).locator('.badge.c-red').count()) === 1, `${FRESH} red`);
      expect(await serviceRow(page, FRESH).textContent()).toContain('older than the RPO');
      // The runbook never drilled (amber) before the drilled one; the drilled one charts its two drills.
      expect(await rowNames(page, 'runbooks')).toEqual([RPO_BOOK, DRILLED]);
      const trend = page.locator('table.runbooks tbody tr', { hasText: DRILLED }).locator('svg');
      await reloadUntil(page, async () => (await trend.locator('circle').count()) === 2, 'two drills on the trend chart');
      expect(await trend.locator('title').first().textContent()).toBeTruthy();
      await page.screenshot({ path: join(SHOTS, 'posture.png'), fullPage: true });
      await page.goto(`${app.url}/runbooks/${DRILLED}/drills`);
      await page.screenshot({ path: join(SHOTS, 'drill-history.png'), fullPage: true });
      await context.close();
    },
  );
});

describe('the restore-points page in a browser', () => {
  it('lists points with their evidence, answers "latest verified before T", and lets only an approver start a verification', { timeout: 180_000 }, async () => {
    const viewer = await signedInAs(browser, app.url, app.tokens.vic!);
    await viewer.page.goto(`${app.url}/restore-points`);
    const failing = viewer.page.locator('section.service', { hasText: FAILING });
    expect(await failing.locator('tbody tr').first().textContent()).toContain('by hand');
    expect(await failing.locator('tbody tr td').nth(1).textContent()).toBe('postgres');
    expect(await viewer.page.getByRole('button', { name: /^Verify/ }).count()).toBe(0);
    expect(await viewer.page.locator('.note').textContent()).toContain('Only approvers can start a verification');
    expect(await viewer.page.locator('.note').textContent()).toContain('A drill restore is not started here');
    expect(await postFrom(viewer.page, '/restore-points/verify', { _csrf: await csrfIn(viewer.page), point: corruptId })).toBe(403);

    // "Latest verified before T": half an hour ago, the hour-old point, not the fresh one.
    await viewer.page.getByLabel('Service').fill(FRESH);
    await viewer.page.getByLabel(/Verified before/).fill(ago(1_800_000));
    await viewer.page.getByRole('button', { name: 'Find latest verified point' }).click();
    expect(await viewer.page.locator('.answer').textContent()).toContain(olderVerified);
    await viewer.context.close();

    const approver = await signedInAs(browser, app.url, app.tokens.alice!);
    await approver.page.goto(`${app.url}/restore-points`);
    expect(await postFrom(approver.page, '/restore-points/verify', { point: corruptId })).toBe(403);
    await approver.page.screenshot({ path: join(SHOTS, 'restore-points.png'), fullPage: true });
    await approver.page.getByRole('button', { name: `Verify ${corruptId}` }).click();
    await approver.page.waitForURL(/\/runs\/[^/]+$/);
    await expect.poll(() => approver.page.locator('#run-state').textContent(), { timeout: 60_000 }).toBe('failed');
    expect(await approver.page.locator('#steps').textContent()).toContain('failed verification');
    await approver.page.goto(`${app.url}/restore-points?service=${CORRUPT}`);
    const row = approver.page.locator('section.service tbody tr').first();
    expect(await row.locator('.badge').first().textContent()).toBe('failed');
    expect(await row.locator('details').textContent()).toContain('sha256');
    await approver.context.close();
  });
});

describe('the failback page in a browser', () => {
  it('starts the generated failback of a routing switch for real and HAProxy is back where it was', { timeout: 180_000 }, async () => {
    await command(location(), 'set server web/primary weight 100');
    await command(location(), 'set server web/standby weight 0');
    const failover = planOf(`apiVersion: rebound/v1
kind: Runbook
metadata: {name: switch-${site}}
spec:
  steps:
    - id: to-standby
      uses: routing.switch
      with:
        provider: haproxy
        haproxy: {socket: "${haproxy.statsSocket.tcp}", backend: web, servers: {primary: {weight: 0}, standby: {weight: 100}}}
`);
    const handle = await startRun(client, failover, {}, { taskQueue, startedBy: 'operator' });
    expect((await finalStatus(handle)).state).toBe('succeeded');
    expect(await weights()).toEqual({ primary: 0, standby: 100 });

    const { context, page } = await signedInAs(browser, app.url, app.tokens.alice!);
    await page.goto(`${app.url}/runs/${encodeURIComponent(handle.workflowId)}/failback?mode=run`);
    expect(await page.locator('#failback-items').textContent()).toContain('to-standby');
    await page.getByRole('button', { name: 'Start the failback for real' }).click();
    await page.waitForURL((u) => /^\/runs\/[^/]+$/.test(u.pathname) && !u.pathname.includes(encodeURIComponent(handle.workflowId)));
    await expect.poll(() => page.locator('#run-state').textContent(), { timeout: 60_000 }).toBe('succeeded');
    expect(await weights()).toEqual({ primary: 100, standby: 0 });
    await page.screenshot({ path: join(SHOTS, 'failback-run.png'), fullPage: true });
    await context.close();
  });
});

describe('the console on a phone', () => {
  it('posture, runs and a run page fit 390×844 without sideways scrolling, and Tab reaches every nav link', { timeout: 180_000 }, async () => {
    const plan = planOf(
      `apiVersion: rebound/v1\nkind: Runbook\nmetadata: {name: phone-${site}}\nspec:\n  steps:\n    - {id: hello, uses: log, with: {message: hi}}\n`,
    );
    const handle = await startRun(client, plan, {}, { taskQueue });
    expect((await finalStatus(handle)).state).toBe('succeeded');
    const run = `/runs/${encodeURIComponent(handle.workflowId)}`;
    const desktop = await signedInAs(browser, app.url, app.tokens.vic!);
    for (const [path, shot] of [
      ['/runs', 'runs.png'],
      [run, 'run.png'],
      [`${run}/report`, 'report.png'],
    ] as const) {
      await desktop.page.goto(`${app.url}${path}`);
      await desktop.page.screenshot({ path: join(SHOTS, shot), fullPage: true });
    }
    await desktop.context.close();

    const { context, page } = await signedInAs(browser, app.url, app.tokens.vic!, { width: 390, height: 844 });
    for (const [path, shot] of [
      ['/', 'phone-posture.png'],
      ['/runs', 'phone-runs.png'],
      [run, 'phone-run.png'],
    ] as const) {
      await page.goto(`${app.url}${path}`);
      const fit = await page.evaluate(() => ({ scroll: document.scrollingElement!.scrollWidth, inner: window.innerWidth }));
      expect(fit.scroll, `${path} is ${fit.scroll}px wide on a ${fit.inner}px screen`).toBeLessThanOrEqual(fit.inner);
      await page.screenshot({ path: join(SHOTS, shot), fullPage: true });
    }
    // Keyboard only: Tab from the top of the page reaches each nav link, in the nav's order.
    await page.goto(`${app.url}/`);
    const reached: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      const href = await page.evaluate(() => (document.activeElement?.closest('nav') ? document.activeElement.getAttribute('href') : null));
      if (href) reached.push(href);
    }
    expect(reached).toEqual(['/', '/runs', '/restore-points', '/runbooks']);
    await context.close();
  });
});
