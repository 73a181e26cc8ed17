/**
 * Exactly once under injected faults: the aggregator handler runs behind the local event source
 * mapping (retries, bisect, partial batch responses) against real emulated Kinesis and DynamoDB,
 * while a fault injector makes DynamoDB and Kinesis calls fail before they reach the service or
 * after it applied them (a lost response: the write happened, the handler saw an error), and makes
 * whole invocations fail after they finished. After each run the aggregate rows equal the ground
 * truth exactly, and the aggregates stream's latest revision of every row equals the stored row
 * (or, without the aggregates feed, nothing is published). The aggregator runs ad-tech and telemetry
 * side by side: telemetry's readings (no join; counts, sums, minima and maxima) end exact too.
 */
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { waitFor } from '../../local/wait';
import { countedByCampaign } from '../../local/aggregator-rig';
import { aggregatorRigForFile } from '../support/aggregator-rig';
import { generateWorkload } from '../../pipelines/adtech/workload';
import { aggregatesFeed, streams } from '../../schemas/resources';
import { COUNTERS, type AggregateRow, type AggregationRow } from '../../schemas/aggregates';
import telemetry from '../../pipelines/telemetry';
import { aggregationOf } from '../../schemas/pipeline';
import { generateTraffic } from '../../local/traffic';
import { rowKey } from '../../local/ground-truth';
import { expectRowsToEqualTruth, truthOf } from '../support/truth-reports';

describe('the aggregator under injected faults', () => {
  const rig = aggregatorRigForFile({ shards: 2, dataDirPrefix: 'sdp-faults-', pipelines: ['adtech', 'telemetry'] });

  async function latestPublished<R extends { period: number; revision: number } = AggregateRow>(keyOf = (row: R) => `${(row as unknown as AggregateRow).campaign_item_id}#${row.period}`): Promise<Map<string, R>> {
    const latest = new Map<string, R>();
    const { kinesis } = rig;
    const shards = await kinesis.send(new ListShardsCommand({ StreamName: streams.aggregates.name }));
    for (const shard of shards.Shards ?? []) {
      let iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: streams.aggregates.name, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      for (;;) {
        const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10000 }));
        for (const r of out.Records ?? []) {
          const row = JSON.parse(Buffer.from(r.Data!).toString()) as R;
          const key = keyOf(row);
          if ((latest.get(key)?.revision ?? -1) < row.revision) latest.set(key, row);
        }
        iterator = out.NextShardIterator;
        if ((out.Records ?? []).length === 0) break;
      }
    }
    return latest;
  }

  /** Puts a workload on the stream and runs the faulty aggregator over it with faults on `probability` of calls; its rows once every event is counted. */
  async function countUnderFaults({ seed, probability, firstCampaign, auctions, minFaults = 20 }: { seed: number; probability: number; firstCampaign: number; auctions: number; minFaults?: number }) {
    const campaigns = 12;
    const workload = generateWorkload({ auctions, campaigns, firstCampaign, resendRate: 0.1, reorderRate: 0.3, seed, timeSpreadMs: 10 * 60_000 });
    const { faults } = rig;
    faults.reset(seed, probability);
    await rig.putWorkload(workload);
    faults.enabled = true;

    const consumer = `aggregator-${seed}`;
    const poller = rig.poller(consumer, rig.faultyHandler, {});
    const expectedTotal = [...workload.truth.values()].reduce((s, c) => s + c.bids + c.impressions + c.clicks, 0);
    try {
      await poller.start();
      let counted = 0;
      await waitFor(
        () => `every event to be counted (${counted} of ${expectedTotal}; faults ${JSON.stringify(faults.injected)}; shards ${JSON.stringify(poller.shards())})`,
        async () => {
          const rows = await rig.campaignRows(firstCampaign, campaigns);
          counted = rows.reduce((s, r) => s + r.bids + r.impressions + r.clicks, 0);
          return counted >= expectedTotal && poller.idle();
        },
        240_000,
        200,
      );
    } finally {
      await poller.stop();
      faults.enabled = false;
    }

    expect(faults.injected.before + faults.injected.after + faults.injected.invocation).toBeGreaterThan(minFaults);
    expect(poller.deadLettered).toBe(0);
    const rows = await rig.campaignRows(firstCampaign, campaigns);
    expect(Object.fromEntries(countedByCampaign(rows))).toEqual(Object.fromEntries(workload.truth));
    return rows;
  }

  it.each([
    { seed: 1, probability: 0.03, firstCampaign: 1000, auctions: 1500 },
    { seed: 2, probability: 0.1, firstCampaign: 2000, auctions: 600 },
  ])('counts every event exactly once with faults on %p of calls', async (run) => {
    const rows = await countUnderFaults(run);
    const published = await latestPublished();
    for (const row of rows) {
      const latest = published.get(`${row.campaign_item_id}#${row.period}`);
      expect(latest && { ...pick(latest), revision: latest.revision }).toEqual({ ...pick(row), revision: row.revision });
    }
  }, 300_000);

  it('counts exactly and publishes nothing when the stack has no aggregates feed (AGGREGATES_FEED=off)', async () => {
    process.env[aggregatesFeed.env] = aggregatesFeed.off;
    try {
      const rows = await countUnderFaults({ seed: 3, probability: 0.03, firstCampaign: 3000, auctions: 400, minFaults: 3 });
      expect(rows.length).toBeGreaterThan(0);
      const published = await latestPublished();
      expect([...published.values()].filter((r) => r.campaign_item_id >= 3000 && r.campaign_item_id < 4000)).toEqual([]);
    } finally {
      delete process.env[aggregatesFeed.env];
    }
  }, 300_000);

  it('counts telemetry readings exactly (readings, total, minimum, maximum) with faults on 3 % of calls', async () => {
    // Few rows (2 devices, 2 metrics, 4 windows), so that a batch's writes are as many as ad-tech's; resends anywhere.
    const traffic = generateTraffic(telemetry, { events: 800, groups: 2, timeSpreadMs: 3 * 60_000, seed: 5, resendRate: 0.15, shuffle: true });
    const truth = truthOf(telemetry, traffic.events).devices;
    const { faults } = rig;
    faults.reset(5, 0.03);
    await rig.putEvents('reading', traffic.events.map((e) => e.body));
    faults.enabled = true;
    const poller = rig.poller('aggregator-telemetry', rig.faultyHandler, {});
    const devices = () => rig.aggregationRows('devices');
    let counted = 0;
    try {
      await poller.start();
      await waitFor(
        () => `every reading to be counted (${counted} of ${traffic.distinct.reading}; faults ${JSON.stringify(faults.injected)}; shards ${JSON.stringify(poller.shards())})`,
        async () => {
          counted = (await devices()).reduce((n, r) => n + (r.readings as number), 0);
          return counted >= traffic.distinct.reading && poller.idle();
        },
        240_000,
        200,
      );
    } finally {
      await poller.stop();
      faults.enabled = false;
    }
    expect(faults.injected.before + faults.injected.after + faults.injected.invocation).toBeGreaterThan(20);
    expect(poller.deadLettered).toBe(0);
    const rows = await devices();
    expectRowsToEqualTruth(telemetry, 'devices', rows, truth);
    const keyOf = (r: AggregationRow) => rowKey(aggregationOf(telemetry, 'devices'), r);
    const published = await latestPublished<AggregationRow>((r) => (r.aggregation === 'devices' ? keyOf(r) : `other#${r.period}`));
    for (const row of rows) expect(published.get(keyOf(row))).toEqual({ ...row, period_seconds: 60 });
  }, 300_000);
});

function pick(row: AggregateRow) {
  return Object.fromEntries(COUNTERS.map((c) => [c, row[c]]));
}
