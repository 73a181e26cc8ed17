/**
 * Dead letters replayed exactly when the replays themselves are interrupted: batches are abandoned
 * under injected faults as in redrive.test.ts, their replays are cut short by faults in their
 * writes (before or after one was applied), impressions and clicks of their auctions are then consumed,
 * and the replays run again: the rows equal the ground truth, and a further replay changes nothing.
 * The aggregator runs ad-tech and telemetry: readings (with resends) among the abandoned events end
 * exact too, window by window.
 * A file of its own: the handler's clients are per process, and point at one rig's emulators.
 */
import { listDeadLetters } from '../../local/dead-letters';
import { countedByCampaign } from '../../local/aggregator-rig';
import { aggregatorRigForFile } from '../support/aggregator-rig';
import { generateWorkload } from '../../pipelines/adtech/workload';
import { tables } from '../../schemas/resources';
import type { ReplayReport } from '../../lambdas/aggregator/replay';
import telemetry from '../../pipelines/telemetry';
import { generateTraffic } from '../../local/traffic';
import { expectRowsToEqualTruth, truthOf } from '../support/truth-reports';

describe('sdp dlq redrive for the aggregator, interrupted', () => {
  const rig = aggregatorRigForFile({ shards: 2, dataDirPrefix: 'sdp-redrive-interrupted-', pipelines: ['adtech', 'telemetry'] });

  it('counts each event once when interrupted replays run again after later events changed their auctions', async () => {
    const firstCampaign = 6000;
    const campaigns = 8;
    const workload = generateWorkload({ auctions: 800, campaigns, firstCampaign, resendRate: 0.15, reorderRate: 0.4, seed: 12, timeSpreadMs: 10 * 60_000 });
    // Half the auctions' impressions and clicks come after their bids were abandoned.
    const heldBack = (e: (typeof workload.events)[number]) => e.type !== 'bid' && Number(String(e.body.tx_id).split('-').pop()) % 2 === 0;
    const early = workload.events.filter((e) => !heldBack(e));
    const later = workload.events.filter(heldBack);
    const { faults } = rig;
    const consumer = 'aggregator-interrupted';
    const consume = () => rig.consume(consumer, rig.faultyHandler, { batchSize: 50, retryAttempts: 1 });

    const readings = generateTraffic(telemetry, { events: 300, groups: 3, resendRate: 0.15, seed: 12, timeSpreadMs: 10 * 60_000, shuffle: true });
    const telemetryExact = async () => expectRowsToEqualTruth(telemetry, 'devices', await rig.aggregationRows('devices'), truthOf(telemetry, readings.events).devices);
    const half = Math.ceil(early.length / 2);
    await rig.putWorkload({ ...workload, events: early.slice(0, half) });
    await rig.putEvents('reading', readings.events.map((e) => e.body));
    await rig.putWorkload({ ...workload, events: early.slice(half) });
    faults.reset(12, 0.15);
    faults.enabled = true;
    try {
      await consume();
    } finally {
      faults.enabled = false;
    }
    const letters = listDeadLetters(rig.dataDir).filter((l) => l.consumer === consumer);
    expect(letters.length).toBeGreaterThan(3);

    const { replayAggregatorBatch } = await import('../../lambdas/aggregator/replay');
    let interrupted = 0;
    faults.reset(13, 0.5, [`PutItemCommand@${tables.txState.name}`, `UpdateItemCommand@${tables.aggregates.name}`, 'PutRecordsCommand']); // the replays' writes of states and rows
    faults.enabled = true;
    try {
      for (const { letter } of letters) await replayAggregatorBatch(letter.KinesisBatchInfo.shardId, letter.records).catch(() => interrupted++);
    } finally {
      faults.enabled = false;
    }
    expect(interrupted).toBeGreaterThan(1);

    await rig.putWorkload({ ...workload, events: later });
    await consume();
    const reports: ReplayReport[] = [];
    for (const { letter } of letters) reports.push(await replayAggregatorBatch(letter.KinesisBatchInfo.shardId, letter.records));
    expect(reports.some((r) => r.resumed > 0)).toBe(true);
    expect(Object.fromEntries(countedByCampaign(await rig.campaignRows(firstCampaign, campaigns)))).toEqual(Object.fromEntries(workload.truth));
    await telemetryExact();

    for (const { letter } of letters) await replayAggregatorBatch(letter.KinesisBatchInfo.shardId, letter.records);
    expect(Object.fromEntries(countedByCampaign(await rig.campaignRows(firstCampaign, campaigns)))).toEqual(Object.fromEntries(workload.truth));
    await telemetryExact();
  }, 300_000);
});
