/**
 * Dead letters replayed beside the live aggregator: a replay that rewrites join states between a
 * batch's read of them and its write must not see its rewrite undone, and a batch must not write
 * over a replay's states. The protocol (journal.ts, redrive-lease.ts) runs against dynalite; then,
 * on the emulators, a replay runs while a live batch holds the same auctions' states, read before
 * the replay; and letters abandoned under faults are replayed while the aggregator consumes later
 * events of their auctions.
 * A file of its own: the handler's clients are per process, and point at one rig's emulators.
 */
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { ListShardsCommand, SplitShardCommand, type Shard } from '@aws-sdk/client-kinesis';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { listDeadLetters } from '../../local/dead-letters';
import { countedByCampaign } from '../../local/aggregator-rig';
import { aggregatorRigForFile } from '../support/aggregator-rig';
import { generateWorkload, type WorkloadEvent } from '../../pipelines/adtech/workload';
import { waitFor } from '../../local/wait';
import { streams, tables } from '../../schemas/resources';
import { fence } from '../../lambdas/commons/sequence';
import { shardTaking, shardsOverlapping } from '../../lambdas/aggregator/shard-map';
import { AggregatorJournal } from '../../lambdas/aggregator/journal';
import { RedriveLease, ShardBusyError } from '../../lambdas/aggregator/redrive-lease';
import type { ReplayReport } from '../../lambdas/aggregator/replay';

type Middleware = (next: (args: { input: Record<string, unknown> }) => Promise<unknown>, context: { commandName?: string }) => (args: { input: Record<string, unknown> }) => Promise<unknown>;

/** How often a letter is replayed when its shard stayed busy, as the error tells an operator to ("run the redrive again"). */
const REPLAY_ATTEMPTS = 3;

/**
 * Replays a letter as an operator runs `sdp dlq redrive`: a replay that could not take its shard
 * before its deadline (the live aggregator's batches kept it, as on a loaded machine) wrote
 * nothing, and is run again. Any other failure fails the test.
 */
async function replayUntilTaken(shardId: string, records: KinesisStreamRecord[]): Promise<ReplayReport> {
  const { replayAggregatorBatch } = await import('../../lambdas/aggregator/replay');
  for (let attempt = 1; ; attempt++) {
    try {
      return await replayAggregatorBatch(shardId, records);
    } catch (err) {
      if (!(err instanceof ShardBusyError) || attempt === REPLAY_ATTEMPTS) throw err;
      process.stdout.write(`redrive-concurrent: ${(err as Error).message} (attempt ${attempt} of ${REPLAY_ATTEMPTS})\n`);
    }
  }
}

const eventOf = (r: KinesisStreamRecord) => JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString()) as { type: string; tx_id: string };

describe('sdp dlq redrive beside the live aggregator', () => {
  const rig = aggregatorRigForFile({ shards: 1, dataDirPrefix: 'sdp-redrive-concurrent-' });

  it('holds a shard for a replay: batches wait for it, it waits for the batch writing, and a batch that read before it reads again', async () => {
    const shard = 'shardId-protocol';
    const journal = () => new AggregatorJournal(rig.db, tables.aggregatorJournal.name, tables.aggregates.name);
    const writing = journal();
    const range = { first: '00000000000000000000000000000000000000000000000000000000000100', last: '00000000000000000000000000000000000000000000000000000000000200' };
    const deadline = () => Date.now() + 20_000;
    await writing.ready(shard, deadline());
    expect(await writing.begin(shard, range, [])).toEqual({ recovering: false });
    const other = journal(); // an environment that read its states before the replay took the shard
    await other.ready(shard, deadline());

    const lease = new RedriveLease(rig.db, tables.aggregatorJournal.name, shard);
    let taken = false;
    const waits: string[] = [];
    const take = lease.take(deadline(), (why) => waits.push(why)).then((position) => {
      taken = true;
      return position;
    });
    // The batch finishes only once the replay holds the shard and has found it writing.
    await waitFor('the replay to hold the shard and wait for the batch', async () => waits.length === 1 && (await writing.journal(shard))?.lease_holder !== undefined, 10_000, 20);
    expect(taken).toBe(false); // the batch in flight is still writing
    await writing.finish(shard, range, false);
    await expect(take).resolves.toBe(range.last);
    expect(waits).toEqual([`waiting for the batch running on shard ${shard} to finish`]); // what sdp dlq redrive prints

    // While the replay holds the shard, no batch begins, and a fresh environment waits before it reads.
    const next = { first: '00000000000000000000000000000000000000000000000000000000000201', last: '00000000000000000000000000000000000000000000000000000000000300' };
    expect(await writing.begin(shard, next, [])).toBe('read again');
    const fresh = journal();
    let ready = false;
    const waiting = fresh.ready(shard, deadline()).then(() => (ready = true));
    await waitFor('the fresh batch to say it waits', async () => (await writing.journal(shard))?.batch_waiting !== undefined, 10_000, 20);
    expect(ready).toBe(false);

    // The replay lets go and another takes the shard at once (the next letter): the waiting batch begins first.
    await lease.release();
    const second = new RedriveLease(rig.db, tables.aggregatorJournal.name, shard);
    const secondWaits: string[] = [];
    const takeAgain = second.take(deadline(), (why) => secondWaits.push(why));
    await waiting;
    // A batch that read its states before the first replay took the shard reads them again.
    expect(await other.begin(shard, next, [])).toBe('read again');
    expect(await fresh.begin(shard, next, [])).toEqual({ recovering: false });
    await fresh.finish(shard, next, false);
    await expect(takeAgain).resolves.toBe(next.last);
    expect(secondWaits[0]).toBe(`waiting for shard ${shard}: another redrive holds it, or a batch is about to run on it`);
    await second.release();

    // A batch that waited but had nothing to write takes its mark back: the next replay need not wait for it.
    const third = new RedriveLease(rig.db, tables.aggregatorJournal.name, shard);
    await third.take(deadline());
    const idle = journal();
    const idleReady = idle.ready(shard, deadline());
    await waitFor('the idle batch to say it waits', async () => (await writing.journal(shard))?.batch_waiting !== undefined, 10_000, 20);
    await third.release();
    await idleReady;
    await idle.notWaiting(shard);
    expect((await writing.journal(shard))?.batch_waiting).toBeUndefined();
  }, 60_000);

  it('counts every event once when a replay rewrites the states a live batch read before it', async () => {
    const campaign = 7000;
    const workload = generateWorkload({ auctions: 40, campaigns: 1, firstCampaign: campaign, impressionRate: 1, clickRate: 1, resendRate: 0, reorderRate: 0, seed: 21 });
    const auction = (e: WorkloadEvent) => Number(String(e.body.tx_id).split('-').pop());
    const abandoned = (e: WorkloadEvent) => e.type === 'bid' && auction(e) % 2 === 0;
    const consumer = 'aggregator-concurrent';
    const consume = (handler = rig.handler) => rig.consume(consumer, handler, { batchSize: 100, retryAttempts: 1 });

    // Half the bids are abandoned to dead letters; their impressions then wait in their join states.
    await rig.putWorkload({ ...workload, events: workload.events.filter((e) => e.type === 'bid') });
    await consume(async (event: KinesisStreamEvent, context) => {
      if (event.Records.some((r) => eventOf(r).type === 'bid' && Number(eventOf(r).tx_id.split('-').pop()) % 2 === 0)) throw new Error('bid rejected');
      return rig.handler(event, context);
    });
    const letters = listDeadLetters(rig.dataDir).filter((l) => l.consumer === consumer);
    expect(letters.flatMap((l) => l.letter.records)).toHaveLength(workload.events.filter(abandoned).length);
    await rig.putWorkload({ ...workload, events: workload.events.filter((e) => e.type === 'impression') });
    await consume();

    // The clicks' batch reads its states; the replays run before it writes.
    const { replayAggregatorBatch } = await import('../../lambdas/aggregator/replay');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { dynamo } = require('../../lambdas/commons/clients') as typeof import('../../lambdas/commons/clients');
    const reports: ReplayReport[] = [];
    let armed = true;
    const replayAfterStatesRead: Middleware = (next, context) => async (args) => {
      const result = await next(args);
      const readsStates = context.commandName === 'BatchGetItemCommand' && tables.txState.name in (args.input.RequestItems as object);
      if (armed && readsStates) {
        armed = false;
        for (const { letter } of letters) reports.push(await replayAggregatorBatch(letter.KinesisBatchInfo.shardId, letter.records));
      }
      return result;
    };
    dynamo().middlewareStack.add(replayAfterStatesRead as never, { step: 'initialize', name: 'replayAfterStatesRead' });
    try {
      await rig.putWorkload({ ...workload, events: workload.events.filter((e) => e.type === 'click') });
      await consume();
    } finally {
      dynamo().middlewareStack.remove('replayAfterStatesRead');
    }
    expect(armed).toBe(false);
    expect(reports.reduce((n, r) => n + r.added.impressions, 0)).toBe(workload.events.filter(abandoned).length);
    expect(Object.fromEntries(countedByCampaign(await rig.campaignRows(campaign, 1)))).toEqual(Object.fromEntries(workload.truth));
  }, 120_000);

  it('counts every event once when batches abandoned under faults are replayed while the aggregator consumes later events', async () => {
    const firstCampaign = 7100;
    const campaigns = 4;
    const workload = generateWorkload({ auctions: 600, campaigns, firstCampaign, resendRate: 0.1, reorderRate: 0.3, seed: 22, timeSpreadMs: 10 * 60_000 });
    const later = (e: WorkloadEvent) => e.type !== 'bid' && Number(String(e.body.tx_id).split('-').pop()) % 2 === 0;
    const consumer = 'aggregator-live';
    await rig.putWorkload({ ...workload, events: workload.events.filter((e) => !later(e)) });
    rig.faults.reset(22, 0.15);
    rig.faults.enabled = true;
    try {
      await rig.consume(consumer, rig.faultyHandler, { batchSize: 40, retryAttempts: 1 });
    } finally {
      rig.faults.enabled = false;
    }
    const letters = listDeadLetters(rig.dataDir).filter((l) => l.consumer === consumer);
    expect(letters.length).toBeGreaterThan(1);

    // The later impressions and clicks are consumed in small batches while every letter is replayed:
    // batches and replays take turns on the shard, neither is kept out, and each event counts once.
    // A replay also waits out a batch the faults left "in flight" (its invocation died after it
    // began): up to IN_FLIGHT_MS, with little margin when every request is slow on a loaded machine,
    // so a replay told "stayed busy ... run the redrive again" is run again, at most REPLAY_ATTEMPTS times.
    const live = rig.poller(consumer, rig.handler, { batchSize: 10 });
    await live.start();
    try {
      const sending = rig.putWorkload({ ...workload, events: workload.events.filter(later) });
      for (const { letter } of letters) await replayUntilTaken(letter.KinesisBatchInfo.shardId, letter.records);
      await sending;
      await waitFor('the later events to be consumed', async () => live.idle(), 120_000, 100);
    } finally {
      await live.stop();
    }
    expect(Object.fromEntries(countedByCampaign(await rig.campaignRows(firstCampaign, campaigns)))).toEqual(Object.fromEntries(workload.truth));
  }, 300_000);

  // Last: it reshards the rig's stream.
  it("holds the shards that took over a resharded letter's shard, and stamps what it adds with their position", async () => {
    const campaign = 7200;
    const workload = generateWorkload({ auctions: 1, campaigns: 1, firstCampaign: campaign, impressionRate: 0, clickRate: 0, resendRate: 0, reorderRate: 0, seed: 23 });
    const txId = String(workload.events[0].body.tx_id);
    const consumer = 'aggregator-resharded';
    await rig.putWorkload(workload);
    // Only this auction's bid is abandoned; the consumer skips what earlier tests put on the stream.
    await rig.consume(consumer, async (event: KinesisStreamEvent) => {
      if (event.Records.some((r) => eventOf(r).tx_id === txId)) throw new Error('bid rejected');
      return { batchItemFailures: [] };
    }, { batchSize: 1000, retryAttempts: 0 });
    const [{ letter }] = listDeadLetters(rig.dataDir).filter((l) => l.consumer === consumer);
    const parent = letter.KinesisBatchInfo.shardId;

    await rig.kinesis.send(new SplitShardCommand({ StreamName: streams.events.name, ShardToSplit: parent, NewStartingHashKey: String(2n ** 127n) }));
    let shards: Shard[] = [];
    await waitFor('the split to finish', async () => {
      shards = (await rig.kinesis.send(new ListShardsCommand({ StreamName: streams.events.name }))).Shards ?? [];
      return shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined).length === 2;
    }, 30_000, 100);
    const child = shardTaking(txId, shardsOverlapping(shards, parent), parent);
    expect(child).not.toBe(parent);

    // A batch is writing on the child that now takes the auction's events: the replay waits for it.
    const childJournal = new AggregatorJournal(rig.db, tables.aggregatorJournal.name, tables.aggregates.name);
    const childBatch = { first: fence('9'.repeat(59) + '1'), last: fence('9'.repeat(59) + '5') };
    await childJournal.ready(child, Date.now() + 20_000);
    expect(await childJournal.begin(child, childBatch, [])).toEqual({ recovering: false });
    const { replayAggregatorBatch } = await import('../../lambdas/aggregator/replay');
    const waits: string[] = [];
    const replay = replayAggregatorBatch(parent, letter.records, { onWait: (why) => waits.push(why) });
    await waitFor('the replay to wait for the child', async () => waits.includes(`waiting for the batch running on shard ${child} to finish`), 20_000, 20);
    await childJournal.finish(child, childBatch, false);
    expect((await replay).added.bids).toBe(1);
    // The auction's state (key: aggregation and join key), its bid's slot stamped by the redrive.
    const state = await rig.db.send(new GetCommand({ TableName: tables.txState.name, Key: { state_key: `campaigns#${JSON.stringify([txId])}` } }));
    expect(state.Item?.slots.bid.redrive_at).toBe(childBatch.last);
  }, 120_000);
});
