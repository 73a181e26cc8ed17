/**
 * Dead letters replayed exactly: the aggregator runs behind the local event source mapping with a
 * single retry, while injected faults make DynamoDB and Kinesis calls fail before or after they
 * were applied, so batches are abandoned to the dead-letter store part way through their writes,
 * and the shard goes on with later batches (resends, joins to bids that are now missing). Then the
 * faults stop, every letter is replayed, and the rows equal the ground truth exactly; replaying
 * the same letters again changes nothing. The aggregator runs ad-tech and telemetry side by side:
 * telemetry's readings (with resends) lie among ad-tech's events on the stream, abandoned batches
 * hold readings too, and telemetry's rows end equal to its ground truth, window by window.
 */
import { listDeadLetters } from '../../local/dead-letters';
import { countedByCampaign } from '../../local/aggregator-rig';
import { aggregatorRigForFile } from '../support/aggregator-rig';
import { generateWorkload } from '../../pipelines/adtech/workload';
import type { ReplayReport } from '../../lambdas/aggregator/replay';
import telemetry from '../../pipelines/telemetry';
import { generateTraffic } from '../../local/traffic';
import { expectRowsToEqualTruth, truthOf } from '../support/truth-reports';

describe('sdp dlq redrive for the aggregator', () => {
  const rig = aggregatorRigForFile({ shards: 2, dataDirPrefix: 'sdp-redrive-', pipelines: ['adtech', 'telemetry'] });

  it('replays every abandoned batch so that each event counts once', async () => {
    const firstCampaign = 5000;
    const campaigns = 8;
    const workload = generateWorkload({ auctions: 800, campaigns, firstCampaign, resendRate: 0.15, reorderRate: 0.4, seed: 11, timeSpreadMs: 10 * 60_000 });
    const readings = generateTraffic(telemetry, { events: 400, groups: 3, resendRate: 0.15, seed: 11, timeSpreadMs: 10 * 60_000 });
    const telemetryTruth = truthOf(telemetry, readings.events).devices;
    const telemetryExact = async () => expectRowsToEqualTruth(telemetry, 'devices', await rig.aggregationRows('devices'), telemetryTruth);
    const { faults } = rig;
    faults.reset(11, 0.15);
    // The readings between two halves of ad-tech's events: batches of either, and of both, are abandoned.
    const half = Math.ceil(workload.events.length / 2);
    await rig.putWorkload({ ...workload, events: workload.events.slice(0, half) });
    await rig.putEvents('reading', readings.events.map((e) => e.body));
    await rig.putWorkload({ ...workload, events: workload.events.slice(half) });
    faults.enabled = true;

    const consumer = 'aggregator-redrive';
    try {
      await rig.consume(consumer, rig.faultyHandler, { batchSize: 50, retryAttempts: 1 });
    } finally {
      faults.enabled = false;
    }
    const letters = listDeadLetters(rig.dataDir).filter((l) => l.consumer === consumer);
    expect(letters.length).toBeGreaterThan(3);
    const typesIn = (records: { kinesis: { data: string } }[]) => records.map((r) => (JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString()) as { type: string }).type);
    expect(letters.filter(({ letter }) => typesIn(letter.records).includes('reading')).length).toBeGreaterThan(0);
    const before = countedByCampaign(await rig.campaignRows(firstCampaign, campaigns));
    expect(Object.fromEntries(before)).not.toEqual(Object.fromEntries(workload.truth));

    const { replayAggregatorBatch } = await import('../../lambdas/aggregator/replay');
    const reports: ReplayReport[] = [];
    for (const { letter } of letters) reports.push(await replayAggregatorBatch(letter.KinesisBatchInfo.shardId, letter.records));
    expect(reports.some((r) => r.evidence)).toBe(true);
    if (process.env.REDRIVE_DEBUG) {
      const txLetters = new Map<string, number>();
      letters.forEach(({ letter }, i) => letter.records.forEach((r) => { const tx = JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString()).tx_id; if (txLetters.has(tx) && txLetters.get(tx) !== i) txLetters.set(tx, -1); else txLetters.set(tx, i); }));
      console.log(JSON.stringify({ letters: letters.length, multi: [...txLetters.values()].filter((v) => v === -1).length, reports, before: Object.fromEntries(before), truth: Object.fromEntries(workload.truth) }));
    }
    const rows = await rig.campaignRows(firstCampaign, campaigns);
    expect(Object.fromEntries(countedByCampaign(rows))).toEqual(Object.fromEntries(workload.truth));
    await telemetryExact();

    for (const { letter } of letters) await replayAggregatorBatch(letter.KinesisBatchInfo.shardId, letter.records);
    expect(Object.fromEntries(countedByCampaign(await rig.campaignRows(firstCampaign, campaigns)))).toEqual(Object.fromEntries(workload.truth));
    await telemetryExact();
  }, 300_000);
});
