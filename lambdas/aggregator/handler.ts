/**
 * Aggregator (Lambda on the events stream): decodes a shard's batch, and for every aggregation of
 * the active pipeline its events feed, joins, dedupes and measures it (plan.ts), stores the
 * states, then the rows' contributions, then publishes each changed row's new
 * revision to the aggregates stream when the stack has it (feed.ts). A retried or split batch derives its counts
 * again from the states an earlier attempt stored, and the per-shard fences on rows drop what
 * was added already: nothing counts twice, and every revision reaches the aggregates stream (if any) at
 * least once. The shard's journal (journal.ts) brackets the writes, so a batch abandoned to the
 * dead-letter queue can be replayed exactly later (redrive.ts); a batch whose states a replay
 * rewrote after it read them reads them again before it begins. Undecodable records are reported
 * as batch item failures; only the records before the first failure are applied, so the retry
 * starts exactly where this one stopped.
 */
import type { Context, KinesisStreamEvent, KinesisStreamBatchResponse, KinesisStreamRecord } from 'aws-lambda';
import { BatchProcessorSync, EventType, processPartialResponseSync } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { aggregatorTimeoutSeconds, readSetting, resourceName, streams, tables } from '../../schemas/resources';
import { activePipeline } from '../../schemas/active-pipeline';
import { publishRevisions } from './feed';
import { dynamo, kinesis } from '../commons/clients';
import { StreamWriter } from '../commons/stream-writer';
import { logger, metrics } from '../commons/observability';
import { keyRecords, planKeyed, type FencedEvent } from './plan';
import { fence, shardOf } from '../commons/sequence';
import { AggregatorStore } from './store';
import { AggregatorJournal } from './journal';
import { decodeRecord } from './decode';
import { periodSetting } from './aggregations';

const pipeline = activePipeline();
/** Overrides every aggregation's declared period when the environment sets it. */
const periodSeconds = periodSetting();
const allowedLatenessMs = readSetting('allowedLatenessSeconds') * 1000;
const ttlSeconds = readSetting('txStateTtlSeconds');
const processor = new BatchProcessorSync(EventType.KinesisDataStreams);

let store: AggregatorStore | undefined;
const aggregatorStore = () =>
  (store ??= new AggregatorStore(dynamo(), resourceName(tables.txState), resourceName(tables.aggregates)));
let journal: AggregatorJournal | undefined;
const aggregatorJournal = () =>
  (journal ??= new AggregatorJournal(dynamo(), resourceName(tables.aggregatorJournal), resourceName(tables.aggregates)));
let aggregatesWriter: StreamWriter | undefined;
const aggregatesStream = () => (aggregatesWriter ??= new StreamWriter(kinesis(), resourceName(streams.aggregates)));

/**
 * Plans the batch against the stored states and, when it has anything to write, records it in
 * the shard's journal; reads the states again when a redrive rewrote them meanwhile.
 */
async function planAndBegin(shardId: string, applicable: FencedEvent[], now: number, deadline: number) {
  const db = aggregatorStore();
  const log = aggregatorJournal();
  const keyed = keyRecords(pipeline, applicable);
  const keys = [...new Set(keyed.map((k) => k.key))];
  const settings = { periodSeconds, allowedLatenessMs, expiresAt: Math.floor(now / 1000) + ttlSeconds };
  if (keyed.length === 0) return { plan: planKeyed(keyed, new Map(), settings) };
  const range = { first: applicable[0].seq, last: applicable[applicable.length - 1].seq };
  for (;;) {
    await log.ready(shardId, deadline);
    const plan = planKeyed(keyed, await db.getStates(keys), settings);
    if (plan.rows.length === 0 && plan.states.length === 0) {
      await log.notWaiting(shardId);
      return { plan };
    }
    const begun = await log.begin(shardId, range, plan.rows);
    if (begun !== 'read again') return { plan, begun: { range, recovering: begun.recovering } };
  }
}

export async function handler(event: KinesisStreamEvent, context?: Context): Promise<KinesisStreamBatchResponse> {
  if (event.Records.length === 0) return { batchItemFailures: [] };
  const decoded: FencedEvent[] = [];
  const response = processPartialResponseSync(event, (record: KinesisStreamRecord) => { decoded.push(decodeRecord(pipeline, record)); }, processor, {
    context: context as Context,
  });
  const failed = response.batchItemFailures.map((f) => fence(f.itemIdentifier));
  const firstFailure = failed.length > 0 ? failed.reduce((a, b) => (a < b ? a : b)) : undefined;
  const applicable = firstFailure === undefined ? decoded : decoded.filter((d) => d.seq < firstFailure);
  if (firstFailure !== undefined) logger.error('undecodable records in batch', { failed: failed.length });

  const shardId = shardOf(event.Records[0].eventID);
  const db = aggregatorStore();
  const log = aggregatorJournal();
  const requestsBefore = db.requests + log.requests;
  const now = Date.now();
  const deadline = now + (context?.getRemainingTimeInMillis?.() ?? aggregatorTimeoutSeconds * 1000) - 10_000;
  const { plan, begun } = await planAndBegin(shardId, applicable, now, deadline);
  try {
    await db.putStates(plan.states);
    const rows = await db.applyRows(plan.rows, shardId, now);
    await publishRevisions(aggregatesStream, rows, periodSeconds);
    if (begun) await log.finish(shardId, begun.range, begun.recovering);
  } catch (err) {
    // A redrive waiting for this batch need not wait for the invocation's timeout.
    if (begun) await log.stoppedWriting(shardId, begun.range).catch(() => {});
    throw err;
  }

  metrics.addMetric('RecordsProcessed', MetricUnit.Count, applicable.length);
  metrics.addMetric('BatchSize', MetricUnit.Count, event.Records.length);
  metrics.addMetric('ProcessingTime', MetricUnit.Milliseconds, Date.now() - now);
  if (applicable.length > 0) {
    // Freshness: how long the oldest event of the batch took from the API to its counted row.
    metrics.addMetric('Freshness', MetricUnit.Milliseconds, Date.now() - Math.min(...applicable.map((d) => d.event.received_at)));
  }
  metrics.addMetric('DuplicatesDropped', MetricUnit.Count, plan.stats.duplicates);
  metrics.addMetric('RecordsReplayed', MetricUnit.Count, plan.stats.replayed);
  metrics.addMetric('LateEvents', MetricUnit.Count, plan.stats.late);
  metrics.addMetric('DynamoDBRequests', MetricUnit.Count, db.requests + log.requests - requestsBefore);
  metrics.publishStoredMetrics();
  return response;
}
