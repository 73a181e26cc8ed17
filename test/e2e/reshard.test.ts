/**
 * Resharding end to end: the events stream is resharded while events arrive (sdp reshard, 1 → 3
 * shards), then again at a restart (sdp local --shards 2). The platform runs ad-tech and telemetry
 * side by side, telemetry's readings (with resends) sent among ad-tech's events. The reports of
 * both equal their ground truths (telemetry's window by window) and sdp audit reconciles every
 * hour of every stream and aggregation: the aggregator and the lake writer read each closed shard to
 * its end, then its children, losing nothing and counting nothing twice.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateWorkload, type Counts } from '../../pipelines/adtech/workload';
import { sendEvents } from '../../local/send';
import telemetry from '../../pipelines/telemetry';
import { generateTraffic } from '../../local/traffic';
import { expectReportsToEqualTruth, interleave, truthOf } from '../support/truth-reports';
import { consumerShards, pollUntil, startPlatform, tempDataDir, type RunningPlatform } from '../support/platform';

const run = promisify(execFile);
const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');

describe('resharding the local events stream', () => {
  let platform: RunningPlatform | undefined;
  afterAll(async () => {
    await platform?.stop();
  });

  const dataDir = tempDataDir('sdp-reshard-');
  const workload = generateWorkload({ auctions: 1500, campaigns: 3, firstCampaign: 7300, resendRate: 0.1, reorderRate: 0.3, seed: 31 });
  const readings = generateTraffic(telemetry, { events: 600, groups: 3, resendRate: 0.1, seed: 31, timeSpreadMs: 3 * 60_000 });
  const telemetryTruth = truthOf(telemetry, readings.events);
  const events = interleave(workload.events, readings.events);
  const PIPELINES = ['--pipeline', 'adtech', '--pipeline', 'telemetry'];
  const third = Math.ceil(events.length / 3);
  const [before, during, after] = [0, 1, 2].map((i) => events.slice(i * third, (i + 1) * third));
  const sdp = (...args: string[]) => run(process.execPath, [SDP, ...args, '--data-dir', dataDir]);
  const aggregatorShards = async () => (await consumerShards(platform!.outputs.UrlForAPI, 'aggregator')).map((s) => s.shardId);
  const report = async (campaign: number): Promise<Counts> => {
    const body = (await (await fetch(`${platform!.outputs.UrlForReports}${campaign}`)).json()) as Counts;
    return { bids: body.bids, impressions: body.impressions, clicks: body.clicks };
  };

  it('counts every event once across a reshard while events arrive and one at a restart', async () => {
    platform = await startPlatform({ dataDir, args: [...PIPELINES, '--shards', '1'] });
    expect(await aggregatorShards()).toHaveLength(1);
    await sendEvents(platform.outputs.UrlForAPI, before, { batchSize: 10, concurrency: 4 });
    const [, resharded] = await Promise.all([
      sendEvents(platform.outputs.UrlForAPI, during, { batchSize: 5, concurrency: 4, eventsPerSecond: 250 }),
      sdp('reshard', '--shards', '3', '--json'),
    ]);
    expect(JSON.parse(resharded.stdout)).toEqual({ from: 1, splits: 2, merges: 0, to: 3 });
    await pollUntil('the aggregator to read the three new shards only', aggregatorShards, (shards) => shards.length === 3 && !shards.includes('shardId-000000000000'));
    await expect(sdp('reshard', '--shards', '65')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/shards must be a whole number from 1 to 64 locally/) });
    await platform.stop();

    platform = await startPlatform({ dataDir, args: [...PIPELINES, '--shards', '2'] });
    expect(platform.log()).toMatch(/events stream resharded from 3 to 2 shards/);
    await sendEvents(platform.outputs.UrlForAPI, after, { batchSize: 10, concurrency: 4 });
    for (const [campaign, truth] of workload.truth) {
      await pollUntil(`campaign ${campaign}'s report to equal the truth ${JSON.stringify(truth)}`, () => report(campaign), (counts) => JSON.stringify(counts) === JSON.stringify(truth));
    }
    await expectReportsToEqualTruth(platform.outputs.UrlForAPI, telemetry, telemetryTruth);
    await pollUntil('the aggregator to read the two new shards only', aggregatorShards, (shards) => shards.length === 2);

    // The lake writer batches for a few seconds: the audit is retried until the lake caught up.
    const audit = () => sdp('audit', '--json', '--wait', '60').then(() => 0, (err: { code: number }) => err.code);
    let code = await audit();
    for (let i = 0; i < 20 && code !== 0; i++) code = await audit();
    expect(code).toBe(0);
  }, 300_000);
});
