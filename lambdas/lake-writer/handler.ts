/**
 * Lake writer (Lambda on the events stream and on the aggregates stream): writes each batch to the
 * lake bucket twice, raw (NDJSON, gzip) and Parquet (snappy), one file per table and event-time
 * partition, named after the batch's shard and range of records (rows.ts fileIdFor). Events are
 * written once per stream and identity whatever is re-read (select.ts), and the lake-seen states are
 * stored only after the files, so a retried batch rewrites the same files with the same rows. Aggregate rows are written as they
 * come, each to its aggregation's table: every revision, the reader keeps the latest. Records that cannot be decoded are written to
 * `errors/` with the reason, never dropped; a failed batch is retried whole (no bisect).
 */
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { activePipeline } from '../../schemas/active-pipeline';
import { decodeStreamRecord, type StreamRecord } from '../../schemas/stream-record';
import { lakeBucket, readSetting, resourceName, streams, tables } from '../../schemas/resources';
import { errorsKey, parquetKey, rawKey } from '../../schemas/lake';
import { dynamo } from '../commons/clients';
import { allSettledOrThrow, KeyedItems } from '../commons/dynamo-batch';
import { emitUnreadableData, logger, metrics } from '../commons/observability';
import { s3 } from '../commons/s3';
import { fence, shardOf } from '../commons/sequence';
import { toNdjsonGzip, toParquet } from './parquet';
import { aggregateGroups, aggregateRecordProblem, eventGroups, fileIdFor, type AggregateRecord, type LakeGroup } from './rows';
import { SEEN_KEY, seenKeys, selectForLake, type LakeSeen, type SequencedEvent } from './select';

const ttlSeconds = readSetting('lakeSeenTtlSeconds');
const retentionSeconds = readSetting('eventsStreamRetentionSeconds');
const PUT_CONCURRENCY = 8;

let seenStore: KeyedItems<LakeSeen> | undefined;
const lakeSeen = () => (seenStore ??= new KeyedItems<LakeSeen>(dynamo(), resourceName(tables.lakeSeen), SEEN_KEY));

interface Unreadable {
  sequenceNumber: string;
  data: string;
  error: string;
}

function decodeJson(record: KinesisStreamRecord): unknown {
  return JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
}

async function putObjects(objects: { key: string; body: Uint8Array; contentType: string }[]): Promise<void> {
  const bucket = resourceName(lakeBucket);
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const o = objects[next++];
      await s3().send(new PutObjectCommand({ Bucket: bucket, Key: o.key, Body: o.body, ContentType: o.contentType }));
    }
  };
  await allSettledOrThrow(Array.from({ length: Math.min(PUT_CONCURRENCY, objects.length) }, worker));
}

function filesOf(groups: LakeGroup[], fileId: string) {
  return groups.flatMap((g) => [
    { key: rawKey(g.table, g.partition, fileId), body: toNdjsonGzip(g.records), contentType: 'application/x-ndjson' },
    { key: parquetKey(g.table, g.partition, fileId), body: toParquet(g.table, g.rows), contentType: 'application/vnd.apache.parquet' },
  ]);
}

/** Logs what a batch could not read (written to errors/) and counts it on the shared UnreadableData metric. */
function reportUnreadable(what: string, count: number, fileId: string): void {
  logger.error(`unreadable ${what} written to errors/`, { count, fileId });
  emitUnreadableData(count);
}

function errorFile(fileId: string, unreadable: Unreadable[]) {
  return { key: errorsKey(fileId), body: toNdjsonGzip(unreadable), contentType: 'application/x-ndjson' };
}

async function writeEvents(records: KinesisStreamRecord[], fileId: string): Promise<number> {
  const pipeline = activePipeline();
  const decoded: SequencedEvent<StreamRecord>[] = [];
  const unreadable: Unreadable[] = [];
  for (const r of records) {
    try {
      decoded.push({ seq: fence(r.kinesis.sequenceNumber), arrivedAt: r.kinesis.approximateArrivalTimestamp, event: decodeStreamRecord(pipeline, decodeJson(r)).record });
    } catch (err) {
      unreadable.push({ sequenceNumber: r.kinesis.sequenceNumber, data: r.kinesis.data, error: (err as Error).message });
    }
  }
  const store = lakeSeen();
  const seen = await store.getAll(seenKeys(decoded, pipeline));
  const { events, states } = selectForLake(decoded, seen, { fileId, expiresAt: Math.floor(Date.now() / 1000) + ttlSeconds, retentionSeconds, pipeline });
  const files = filesOf(eventGroups(events, pipeline), fileId);
  if (unreadable.length > 0) files.push(errorFile(fileId, unreadable));
  await putObjects(files);
  await store.putAll(states);
  metrics.addMetric('LakeEventsWritten', MetricUnit.Count, events.length);
  metrics.addMetric('LakeDuplicatesSkipped', MetricUnit.Count, decoded.length - events.length);
  if (unreadable.length > 0) {
    reportUnreadable('records', unreadable.length, fileId);
    metrics.addMetric('LakeUnreadableRecords', MetricUnit.Count, unreadable.length);
  }
  return events.length;
}

async function writeAggregates(records: KinesisStreamRecord[], fileId: string): Promise<number> {
  const pipeline = activePipeline();
  const rows: AggregateRecord[] = [];
  const unreadable: Unreadable[] = [];
  for (const r of records) {
    let value: unknown;
    let problem: string | undefined;
    try {
      value = decodeJson(r);
      problem = aggregateRecordProblem(value, pipeline);
    } catch {
      problem = 'not JSON';
    }
    if (problem === undefined) rows.push(value as AggregateRecord);
    else unreadable.push({ sequenceNumber: r.kinesis.sequenceNumber, data: r.kinesis.data, error: `not an aggregate row: ${problem}` });
  }
  const files = filesOf(aggregateGroups(rows, pipeline), fileId);
  if (unreadable.length > 0) files.push(errorFile(fileId, unreadable));
  await putObjects(files);
  if (unreadable.length > 0) reportUnreadable('aggregate records', unreadable.length, fileId);
  return rows.length;
}

export async function handler(event: KinesisStreamEvent): Promise<void> {
  if (event.Records.length === 0) return;
  const first = event.Records[0];
  const last = event.Records[event.Records.length - 1];
  const fileId = fileIdFor(shardOf(first.eventID), first.kinesis.sequenceNumber, last.kinesis.sequenceNumber);
  const fromAggregates = first.eventSourceARN?.endsWith(`/${resourceName(streams.aggregates)}`);
  const written = fromAggregates ? await writeAggregates(event.Records, fileId) : await writeEvents(event.Records, fileId);
  metrics.addMetric('LakeBatchRecords', MetricUnit.Count, event.Records.length);
  metrics.addMetric('LakeRowsWritten', MetricUnit.Count, written);
  metrics.publishStoredMetrics();
}
