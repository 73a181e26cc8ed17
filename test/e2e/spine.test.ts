/**
 * The spine end to end over HTTP: events posted concurrently (some resent, some out of order)
 * reach the report with exact counts, bad input is refused with the field named, and a restart
 * keeps every count without adding any twice.
 */
import { generateWorkload, type Counts } from '../../pipelines/adtech/workload';
import { sendEvents } from '../../local/send';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pollUntil, startPlatform, type RunningPlatform } from '../support/platform';

const run = promisify(execFile);
const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');

interface Report extends Counts {
  campaign_item_id: number;
  periods: ({ period: number } & Counts)[];
}

async function report(platform: RunningPlatform, campaign: number): Promise<Report> {
  const res = await fetch(`${platform.outputs.UrlForReports}${campaign}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
}

const totals = (r: Counts) => ({ bids: r.bids, impressions: r.impressions, clicks: r.clicks });

describe('the spine on the local platform', () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('reports exactly the distinct events sent, however they were resent or reordered', async () => {
    const campaign = 4242;
    const workload = generateWorkload({ auctions: 400, campaigns: 1, firstCampaign: campaign, impressionRate: 0.6, clickRate: 0.3, resendRate: 0.15, reorderRate: 0.3, seed: 7 });
    const expected = workload.truth.get(campaign)!;
    expect(workload.events.length).toBeGreaterThan(workload.totals.bids + workload.totals.impressions + workload.totals.clicks);

    await sendEvents(platform.outputs.UrlForAPI, workload.events, { concurrency: 32 });

    const final = await pollUntil('the report to count every event', () => report(platform, campaign), (r) => r.bids === expected.bids && r.impressions === expected.impressions && r.clicks === expected.clicks);
    expect(totals(final)).toEqual(expected);
    const summed = final.periods.reduce((s, p) => ({ bids: s.bids + p.bids, impressions: s.impressions + p.impressions, clicks: s.clicks + p.clicks }), { bids: 0, impressions: 0, clicks: 0 });
    expect(summed).toEqual(expected);
    expect(final.periods.every((p) => p.period % 60 === 0)).toBe(true);
  });

  it('refuses bad events with 400 naming the field, and counts none of them', async () => {
    const campaign = 777;
    const res = await fetch(`${platform.outputs.UrlForAPI}bid`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ tx_id: 'ok-1', app_uid: 'u', campaign_item_id: campaign }, { tx_id: 'bad-1', app_uid: 'u', campaign_item_id: 'seven' }]),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { issues: { index: number; field: string }[] };
    expect(body.issues).toEqual([expect.objectContaining({ index: 1, field: 'campaign_item_id' })]);

    expect((await fetch(`${platform.outputs.UrlForAPI}bid`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tx_id":' })).status).toBe(400);
    expect((await fetch(`${platform.outputs.UrlForAPI}bid`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' })).status).toBe(415);
    expect((await fetch(`${platform.outputs.UrlForAPI}bid`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `"${'x'.repeat(1024 * 1024 + 10)}"` })).status).toBe(413);
    expect((await fetch(`${platform.outputs.UrlForReports}abc`)).status).toBe(400);

    // A later good event for the same campaign is counted alone: nothing of the refused request was kept.
    await sendEvents(platform.outputs.UrlForAPI, [{ type: 'bid', body: { tx_id: 'ok-2', app_uid: 'u', campaign_item_id: campaign } }]);
    const final = await pollUntil('the good bid to be counted', () => report(platform, campaign), (r) => r.bids >= 1);
    expect(totals(final)).toEqual({ bids: 1, impressions: 0, clicks: 0 });
  });

  it('reports its health over HTTP and through sdp status', async () => {
    const res = await fetch(`${platform.outputs.UrlForAPI}health`);
    expect(res.status).toBe(200);
    const { stdout } = await run(process.execPath, [SDP, 'status', '--json', '--data-dir', platform.dataDir]);
    const health = JSON.parse(stdout) as { status: string; components: Record<string, { status: string }> };
    expect(health.status).toBe('ok');
    for (const component of ['kinesis', 'dynamodb', 's3', 'aggregator', 'lake-writer-events', 'lake-writer-aggregates']) {
      expect(health.components[component]?.status).toBe('ok');
    }
  });

  it('takes the traffic of sdp generate and reports exactly its printed ground truth', async () => {
    const { stdout } = await run(process.execPath, [SDP, 'generate', '--auctions', '300', '--campaigns', '2', '--seed', '99', '--json', '--data-dir', platform.dataDir]);
    const summary = JSON.parse(stdout) as { events: number; bayesOptimalAuc: number; campaigns: Record<string, Counts> };
    expect(summary.bayesOptimalAuc).toBeGreaterThan(0.5);
    for (const [campaign, expected] of Object.entries(summary.campaigns)) {
      const final = await pollUntil(`campaign ${campaign}`, () => report(platform, Number(campaign)), (r) => r.bids === expected.bids && r.impressions === expected.impressions && r.clicks === expected.clicks);
      expect(totals(final)).toEqual(expected);
    }
  });

  it('keeps every count across a restart, adding none twice', async () => {
    const campaign = 99;
    const first = generateWorkload({ auctions: 150, campaigns: 1, firstCampaign: campaign, seed: 11 });
    await sendEvents(platform.outputs.UrlForAPI, first.events, { concurrency: 16 });
    const expectedFirst = first.truth.get(campaign)!;
    await pollUntil('the first workload', () => report(platform, campaign), (r) => r.bids === expectedFirst.bids && r.impressions === expectedFirst.impressions && r.clicks === expectedFirst.clicks);

    await platform.stop();
    platform = await startPlatform({ dataDir: platform.dataDir });
    expect(totals(await report(platform, campaign))).toEqual(expectedFirst);

    // Resending the whole first workload after the restart adds nothing. Markers sent after it land
    // on every shard, so once they are all counted the resends before them were processed too.
    await sendEvents(platform.outputs.UrlForAPI, first.events, { concurrency: 16 });
    const markers = Array.from({ length: 20 }, (_, i) => ({ type: 'bid' as const, body: { tx_id: `marker-${i}`, app_uid: 'u', campaign_item_id: campaign } }));
    await sendEvents(platform.outputs.UrlForAPI, markers);
    const final = await pollUntil('the marker bids', () => report(platform, campaign), (r) => r.bids >= expectedFirst.bids + markers.length);
    expect(totals(final)).toEqual({ ...expectedFirst, bids: expectedFirst.bids + markers.length });
  });
});
