/**
 * `sdp generate` keeps its word on a real local platform: with --batch-size 50 every request it
 * makes (seen by a recording proxy in front of the API) carries at most 50 events, all of the
 * route's type, nearly all requests are full, and the reports equal the ground truth it prints
 * (per campaign, and every aggregation's rows window by window).
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Counts } from '../../pipelines/adtech/workload';
import type { TruthRow } from '../../local/ground-truth';
import adtech from '../../pipelines/adtech';
import { expectReportsToEqualTruth } from '../support/truth-reports';
import { pollUntil, startPlatform, type RunningPlatform } from '../support/platform';

const run = promisify(execFile);
const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');

interface Seen {
  route: string;
  body: unknown;
}

/** Forwards every request to `target` as is, and records its route and parsed body. */
function recordingProxy(target: string, seen: Seen[]): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ route: req.url ?? '', body: JSON.parse(body) });
      const answer = await fetch(new URL(req.url!.slice(1), target), { method: req.method, headers: { 'content-type': req.headers['content-type'] ?? '' }, body });
      const retryAfter = answer.headers.get('retry-after');
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) });
      res.end(await answer.text());
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Which route an event body belongs to, from its fields: bids name a campaign, impressions a price, clicks neither. */
function typeOf(body: Record<string, unknown>): string {
  return 'campaign_item_id' in body ? '/bid' : 'win_price' in body ? '/impression' : '/click';
}

describe('sdp generate', () => {
  let platform: RunningPlatform;
  let proxy: Server | undefined;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    proxy?.close();
    await platform?.stop();
  });

  it('sends requests of at most --batch-size events of one type, and the reports equal its ground truth', async () => {
    const seen: Seen[] = [];
    proxy = await recordingProxy(platform.outputs.UrlForAPI, seen);
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`;
    const { stdout } = await run(process.execPath, [SDP, 'generate', '--auctions', '2000', '--campaigns', '3', '--seed', '5', '--batch-size', '50', '--json', '--url', url]);
    const summary = JSON.parse(stdout) as { events: number; campaigns: Record<string, Counts>; aggregations: Record<string, TruthRow[]>; sent: { events: number; requests: number } };

    const events = seen.flatMap(({ route, body }) => {
      expect(Array.isArray(body)).toBe(true);
      const batch = body as Record<string, unknown>[];
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(50);
      expect(new Set(batch.map(typeOf))).toEqual(new Set([route]));
      return batch;
    });
    expect(events).toHaveLength(summary.events);
    expect(summary.sent).toEqual(expect.objectContaining({ events: summary.events, requests: seen.length }));
    // Full batches but for the last of each type (and of any type's buffer that waited too long).
    expect(summary.events / seen.length).toBeGreaterThan(45);

    for (const [campaign, expected] of Object.entries(summary.campaigns)) {
      const report = await pollUntil(
        `campaign ${campaign} to reach its ground truth`,
        async () => (await (await fetch(`${platform.outputs.UrlForReports}${campaign}`)).json()) as Counts,
        (r) => r.bids === expected.bids && r.impressions === expected.impressions && r.clicks === expected.clicks,
      );
      expect({ bids: report.bids, impressions: report.impressions, clicks: report.clicks }).toEqual(expected);
    }
    // The ground truth of every aggregation, window by window, as the reports show it.
    expect(Object.keys(summary.aggregations)).toEqual(['campaigns']);
    await expectReportsToEqualTruth(platform.outputs.UrlForAPI, adtech, summary.aggregations);
  });
});
