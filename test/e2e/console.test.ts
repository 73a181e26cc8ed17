/**
 * The live console in headless Chromium against a real local platform: counts change on the page
 * as events are posted (pushed over /live, no reload), the chart follows, a rejected request shows
 * with its reason (as text, never markup), health shows, and Ctrl-C stops the platform promptly
 * with the console still open.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { sendEvents } from '../../local/send';
import type { WorkloadEvent } from '../../local/workload';
import { startPlatform, type RunningPlatform } from '../support/platform';

// The functions passed to page.evaluate and waitForFunction run in the page, where this exists;
// declared here rather than adding the DOM library to the whole project's types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WAIT_MS = 30_000;

type Counts = { bids: number; impressions: number; clicks: number };

describe('the live console', () => {
  let platform: RunningPlatform | undefined;
  let profile: string | undefined;
  let browser: BrowserContext | undefined;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: the console test needs Debian's chromium (apt-get install -y --no-install-recommends chromium; .ci/run installs it)`);
    }
    profile = mkdtempSync(join(tmpdir(), 'sdp-console-chromium-'));
    [platform, browser] = await Promise.all([
      startPlatform(),
      chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS }),
    ]);
    page = await browser.newPage();
    await page.goto(platform.outputs.UrlForConsole);
    await page.waitForFunction(() => document.getElementById('connection')?.textContent === 'live', undefined, { timeout: WAIT_MS });
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const post = (events: WorkloadEvent[]) => sendEvents(platform!.outputs.UrlForAPI, events);

  /** The counts the page shows for a campaign, read from its table row. */
  function shownCounts(campaign: number, on = page): Promise<Counts | undefined> {
    return on.evaluate((id) => {
      const row = document.querySelector(`[data-campaign="${id}"]`);
      if (!row) return undefined;
      const read = (counter: string) => Number(row.querySelector(`[data-counter="${counter}"]`)!.textContent!.replace(/,/g, ''));
      return { bids: read('bids'), impressions: read('impressions'), clicks: read('clicks') };
    }, campaign);
  }

  async function waitForCounts(campaign: number, expected: Counts, on = page): Promise<void> {
    try {
      await on.waitForFunction(
        ({ id, want }) => {
          const row = document.querySelector(`[data-campaign="${id}"]`);
          const read = (counter: string) => Number(row?.querySelector(`[data-counter="${counter}"]`)?.textContent?.replace(/,/g, ''));
          return read('bids') === want.bids && read('impressions') === want.impressions && read('clicks') === want.clicks;
        },
        { id: campaign, want: expected },
        { timeout: WAIT_MS },
      );
    } catch (err) {
      throw new Error(`the page never showed ${JSON.stringify(expected)} for campaign ${campaign}; it shows ${JSON.stringify(await shownCounts(campaign, on))}\n${(err as Error).message}`);
    }
  }

  it('shows the counts change as events are posted, without a reload', async () => {
    const campaign = 7001;
    const bid = (tx: string): WorkloadEvent => ({ type: 'bid', body: { tx_id: tx, app_uid: 'u', campaign_item_id: campaign, win_price: 100 } });
    await post([bid('c-1')]);
    await waitForCounts(campaign, { bids: 1, impressions: 0, clicks: 0 });
    const before = (await shownCounts(campaign))!;

    await post([bid('c-2'), bid('c-3'), bid('c-4')]);
    await post([
      { type: 'impression', body: { tx_id: 'c-2', win_price: 90 } },
      { type: 'impression', body: { tx_id: 'c-3', win_price: 80 } },
      { type: 'click', body: { tx_id: 'c-2' } },
    ]);
    await waitForCounts(campaign, { bids: before.bids + 3, impressions: before.impressions + 2, clicks: before.clicks + 1 });
    expect(await page.textContent(`[data-campaign="${campaign}"] [data-rate="ctr"]`)).toBe('50%');
  });

  it('charts the selected campaign per window', async () => {
    const campaign = 7001;
    await page.click(`[data-select="${campaign}"]`);
    // Every bid of the campaign is in the chart's windows (they may straddle a window boundary).
    await page.waitForFunction(
      ({ id, bids }) => {
        if (document.getElementById('chart-campaign')?.textContent !== String(id)) return false;
        const shown = [...document.querySelectorAll('#chart circle.bids title')].map((t) => Number(/: (\d+) bids$/.exec(t.textContent ?? '')?.[1] ?? 0));
        return shown.reduce((a, b) => a + b, 0) === bids;
      },
      { id: campaign, bids: 4 },
      { timeout: WAIT_MS },
    );
  });

  it('shows a rejected request with its reason, as text', async () => {
    const res = await fetch(`${platform!.outputs.UrlForAPI}click`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"win_price":1}' });
    expect(res.status).toBe(400);
    const markup = '<img src=x onerror="document.title=1">';
    const bad = await fetch(`${platform!.outputs.UrlForAPI}bid`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: markup });
    expect(bad.status).toBe(400);

    await page.waitForFunction(
      () => {
        const text = document.getElementById('rejections')?.textContent ?? '';
        return text.includes('POST /click') && text.includes('tx_id: is required') && text.includes('<img src=x');
      },
      undefined,
      { timeout: WAIT_MS },
    );
    expect(await page.locator('#rejections img').count()).toBe(0);
    expect(await page.title()).toBe('sdp · live console');
  });

  it('shows health, consumer lag and the model state', async () => {
    await page.waitForFunction(
      () =>
        document.getElementById('health-status')?.textContent === 'ok' &&
        /shards? · lag/.test(document.querySelector('[data-component="aggregator"]')?.textContent ?? '') &&
        document.querySelector('[data-component="job:compaction"]') !== null,
      undefined,
      { timeout: WAIT_MS },
    );
    await page.waitForFunction(() => document.getElementById('model')?.textContent === 'No model deployed yet.', undefined, { timeout: WAIT_MS });
  });

  it('polls the watched campaigns’ reports against an API without /live (a deployed stack)', async () => {
    const polling = await browser!.newPage();
    try {
      // API Gateway's answer for a path it has no route for.
      await polling.route('**/live', (route) => route.fulfill({ status: 403, contentType: 'application/json', body: '{"message":"Missing Authentication Token"}' }));
      await polling.goto(`${platform!.outputs.UrlForConsole}?campaigns=7001`);
      await polling.waitForFunction(() => document.getElementById('connection')?.dataset.state === 'polling', undefined, { timeout: WAIT_MS });
      await waitForCounts(7001, (await shownCounts(7001))!, polling);
    } finally {
      await polling.close();
    }
  });

  it('lets Ctrl-C stop the platform promptly while the console is connected', async () => {
    const running = platform!;
    const exited = running.stop();
    const deadline = new Promise((_, reject) => setTimeout(() => reject(new Error(`the platform did not stop within 20 s with a console open:\n${running.log()}`)), 20_000).unref());
    await Promise.race([exited, deadline]);
    expect(running.process.exitCode).toBe(0);
    platform = undefined;
    await page.waitForFunction(() => document.getElementById('connection')?.dataset.state !== 'live', undefined, { timeout: WAIT_MS });
  });
});
