/**
 * Aggregator (Lambda on the events stream): decodes a shard's batch, joins and counts it
 * (plan.ts), stores the join states, then the counts, then publishes each changed row's new
 * revision to the aggregates stream (store.ts). A retried or split batch derives its counts
 * again from the states an earlier attempt stored, and the per-shard fences on rows drop what
 * was added already: nothing counts twice, and every revision reaches the aggregates stream at
 * least once. The shard's journal (journal.ts) brackets the writes, so a batch abandoned to the
 * dead-letter queue can be replayed exactly later (redrive.ts). Undecodable records are reported as batch item failures; only the
 * records before the first failure are applied, so the retry starts exactly where this one stopped.
 */
import type { Context, KinesisStreamEvent, KinesisStreamBatchResponse, KinesisStreamRecord } from 'aws-lambda';
import { BatchProcessorSync, EventType, processPartialResponseSync } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { readSetting, resourceName, streams, tables } from '../../schemas/resources';
import { dynamo, kinesis } from '../commons/clients';
import { StreamWriter } from '../commons/stream-writer';
import { logger, metrics } from '../commons/observability';
import { planBatch, type FencedEvent } from './plan';
import { fence, shardOf } from '../commons/sequence';
import { AggregatorStore } from './store';
import { AggregatorJournal } from './journal';
import { decodeRecord } from './decode';

const periodSeconds = readSetting('aggregationPeriodSeconds');
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

export async function handler(event: KinesisStreamEvent, context?: Context): Promise<KinesisStreamBatchResponse> {
  if (event.Records.length === 0) return { batchItemFailures: [] };
  const decoded: FencedEvent[] = [];
  const response = processPartialResponseSync(event, (record: KinesisStreamRecord) => { decoded.push(decodeRecord(record)); }, processor, {
    context: context as Context,
  });
  const failed = response.batchItemFailures.map((f) => fence(f.itemIdentifier));
  const firstFailure = failed.length > 0 ? failed.reduce((a, b) => (a < b ? a : b)) : undefined;
  const applicable = firstFailure === undefined ? decoded : decoded.filter((d) => d.seq < firstFailure);
  if (firstFailure !== undefined) logger.error('undecodable records in batch', { failed: failed.length });

  const shardId = shardOf(event.Records[0].eventID);
  const db = aggregatorStore();
  const requestsBefore = db.requests;
  const now = Date.now();
  const stored = await db.getTxStates([...new Set(applicable.map((d) => d.event.tx_id))]);
  const plan = planBatch(applicable, stored, { periodSeconds, allowedLatenessMs, expiresAt: Math.floor(now / 1000) + ttlSeconds });
  const range = applicable.length > 0 ? { first: applicable[0].seq, last: applicable[applicable.length - 1].seq } : undefined;
  const log = aggregatorJournal();
  const journalRequestsBefore = log.requests;
  const writes = range !== undefined && (plan.rows.length > 0 || plan.states.length > 0);
  const recovering = writes && (await log.begin(shardId, range, plan.rows));
  await db.putTxStates(plan.states);
  const rows = await db.applyRows(plan.rows, shardId, now);
  await aggregatesStream().put(
    rows.map((row) => ({ partitionKey: String(row.campaign_item_id), data: Buffer.from(JSON.stringify({ ...row, period_seconds: periodSeconds })) })),
  );
  if (writes) await log.finish(shardId, range, recovering);

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
  metrics.addMetric('DynamoDBRequests', MetricUnit.Count, db.requests - requestsBefore + log.requests - journalRequestsBefore);
  metrics.publishStoredMetrics();
  return response;
}
