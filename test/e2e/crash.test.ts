/**
 * Crash safety: while a generated workload (with client resends) is being sent, the local platform
 * is SIGKILLed at 20+ random moments and restarted on the same port and data dir each time. The
 * sender resends whatever was not answered 200, as a client would. Halfway, a restart reshards the
 * events stream from 4 to 6 shards, so the later kills also land while the consumers read the
 * closed shards to their ends. The platform runs ad-tech and telemetry side by side, and the
 * workload carries telemetry's readings (with resends) among ad-tech's events. In the end every
 * campaign's report equals the ground truth, and every device's report equals telemetry's, window
 * by window and measure by measure: nothing lost, nothing counted twice.
 */
import { generateWorkload, random, type Counts } from '../../pipelines/adtech/workload';
import { sendEvents } from '../../local/send';
import telemetry from '../../pipelines/telemetry';
import { generateTraffic } from '../../local/traffic';
import { expectReportsToEqualTruth, interleave, truthOf } from '../support/truth-reports';
import { consumerShards, freePort, pollUntil, startPlatform, tempDataDir, type RunningPlatform } from '../support/platform';

const KILLS = 20;
const RESHARD_TO = 6;
const PIPELINES = ['--pipeline', 'adtech', '--pipeline', 'telemetry'];


async function report(base: string, campaign: number): Promise<Counts> {
  const res = await fetch(`${base}${campaign}`);
  const body = (await res.json()) as Counts;
  return { bids: body.bids, impressions: body.impressions, clicks: body.clicks };
}

async function allReports(base: string, campaigns: number[]): Promise<Record<number, Counts>> {
  const out: Record<number, Counts> = {};
  for (const c of campaigns) out[c] = await report(base, c);
  return out;
}

describe('the local platform killed at random points', () => {
  let platform: RunningPlatform | undefined;
  afterAll(async () => {
    await platform?.stop();
  });

  it(`loses nothing and counts nothing twice across ${KILLS} SIGKILLs`, async () => {
    const port = await freePort();
    const dataDir = tempDataDir('sdp-crash-');
    const workload = generateWorkload({ auctions: 12_000, campaigns: 8, firstCampaign: 9000, resendRate: 0.05, reorderRate: 0.2, seed: 2026 });
    const readings = generateTraffic(telemetry, { events: 3000, groups: 4, resendRate: 0.05, seed: 2026, timeSpreadMs: 5 * 60_000 });
    const telemetryTruth = truthOf(telemetry, readings.events);
    const events = interleave(workload.events, readings.events);
    const campaigns = [...workload.truth.keys()];
    const expected = Object.fromEntries(workload.truth);
    const base = `http://127.0.0.1:${port}/`;
    const rnd = random(99);

    platform = await startPlatform({ dataDir, port, args: PIPELINES });
    const sending = sendEvents(base, events, { batchSize: 20, concurrency: 4, eventsPerSecond: 700, maxAttempts: 10_000 });
    let sendingDone = false;
    void sending.then(() => (sendingDone = true), () => (sendingDone = true));

    let killsWhileSending = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      await new Promise((r) => setTimeout(r, 300 + rnd() * 1700));
      if (!sendingDone) killsWhileSending++;
      await platform.kill();
      platform = await startPlatform({ dataDir, port, args: [...PIPELINES, ...(kill === KILLS / 2 ? ['--shards', String(RESHARD_TO)] : [])] });
    }
    const sent = await sending;
    expect(sent.events).toBe(events.length);
    expect(killsWhileSending).toBeGreaterThanOrEqual(KILLS / 2);

    await pollUntil('every campaign to be counted', () => allReports(platform!.outputs.UrlForReports, campaigns), (r) => JSON.stringify(r) === JSON.stringify(expected), 300_000);

    // Markers land on every shard after everything else; once they are counted, nothing is left in flight.
    const markerCampaign = 8999;
    const markers = Array.from({ length: 20 }, (_, i) => ({ type: 'bid' as const, body: { tx_id: `crash-marker-${i}`, app_uid: 'u', campaign_item_id: markerCampaign } }));
    await sendEvents(base, markers);
    await pollUntil('the markers', () => report(platform!.outputs.UrlForReports, markerCampaign), (r) => r.bids === markers.length);
    expect(await allReports(platform.outputs.UrlForReports, campaigns)).toEqual(expected);
    await expectReportsToEqualTruth(base, telemetry, telemetryTruth);
    await pollUntil('the aggregator to read the new shards only', () => consumerShards(base, 'aggregator'), (shards) => shards.length === RESHARD_TO && shards.every((s) => !s.waitingFor));
  }, 600_000);
});
