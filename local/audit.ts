/**
 * The data audit of the local platform: reconciles, per UTC hour of event time, what the events
 * stream holds (everything the API accepted, resends included) with what the aggregates count and
 * what the lake keeps, and says where they disagree. Expected figures are derived from the stream
 * itself: each distinct (type, tx_id) once, impressions and clicks only once their auction's bid is
 * on the stream (the aggregator counts them when the bid arrives), late events included (counted
 * apart, in their own window).
 */
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { listShards } from '../lambdas/commons/shards';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { COUNTERS } from '../schemas/aggregates';
import { partitionOf, partitionPath } from '../schemas/lake';
import { streams, tables } from '../schemas/resources';
import type { LakeSql } from './lake-sql';

export interface StreamEventSummary {
  type: string;
  tx_id: string;
  event_time: number;
}

export interface AuditRow {
  /** `dt=YYYY-MM-DD/hour=HH` */
  hour: string;
  /** Records on the stream, resends included. */
  streamRecords: number;
  /** Distinct events the aggregates should count (all counters, late ones included). */
  expectedAggregated: number;
  aggregated: number;
  /** Distinct events the lake should hold (every distinct event). */
  expectedLake: number;
  lakeParquet: number;
  lakeRaw: number;
  ok: boolean;
}

const hourOf = (ms: number) => partitionPath(partitionOf(ms));

/** Expected figures per hour from the stream's records. Pure. */
export function expectedFromStream(events: readonly StreamEventSummary[]): Map<string, Pick<AuditRow, 'streamRecords' | 'expectedAggregated' | 'expectedLake'>> {
  const out = new Map<string, Pick<AuditRow, 'streamRecords' | 'expectedAggregated' | 'expectedLake'>>();
  const row = (hour: string) => out.get(hour) ?? out.set(hour, { streamRecords: 0, expectedAggregated: 0, expectedLake: 0 }).get(hour)!;
  const bids = new Set(events.filter((e) => e.type === 'bid').map((e) => e.tx_id));
  const seen = new Set<string>();
  for (const e of events) {
    const hour = hourOf(e.event_time);
    row(hour).streamRecords++;
    const key = `${e.type}\u0000${e.tx_id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    row(hour).expectedLake++;
    if (e.type === 'bid' || bids.has(e.tx_id)) row(hour).expectedAggregated++;
  }
  return out;
}

/** Every record on the events stream, from the oldest it retains to its tip now; closed shards (a reshard's parents) included. */
export async function readEventsStream(kinesis: KinesisClient): Promise<StreamEventSummary[]> {
  const out: StreamEventSummary[] = [];
  for (const shard of await listShards(kinesis, streams.events.name)) {
    let iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: streams.events.name, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of page.Records ?? []) {
        try {
          const e = JSON.parse(Buffer.from(r.Data!).toString('utf8'));
          out.push({ type: e.type, tx_id: e.tx_id, event_time: e.event_time });
        } catch {
          // not an event the ingestion API wrote: nothing to reconcile
        }
      }
      if ((page.Records ?? []).length === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return out;
}

/** The aggregates' counts per hour: every counter of every row whose window starts in the hour. */
export async function aggregatedByHour(db: DynamoDBDocumentClient): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: tables.aggregates.name, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      const hour = hourOf((item.period as number) * 1000);
      out.set(hour, (out.get(hour) ?? 0) + COUNTERS.reduce((n, c) => n + ((item[c] as number | undefined) ?? 0), 0));
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** The lake's events per hour, in one format. */
export async function lakeByHour(lake: LakeSql, format: 'raw' | 'parquet'): Promise<Map<string, number>> {
  const { rows } = await lake.query(`SELECT dt, hour, count(*) AS n FROM ${format}_bcns GROUP BY dt, hour`);
  return new Map(rows.map((r) => [`dt=${r.dt}/hour=${r.hour}`, r.n as number]));
}

/** Joins the figures into one row per hour, in order: the hours that overlap [from, to) when given (epoch ms). */
export function reconcile(
  expected: ReturnType<typeof expectedFromStream>,
  aggregated: Map<string, number>,
  parquet: Map<string, number>,
  raw: Map<string, number>,
  range: { from?: number; to?: number } = {},
): AuditRow[] {
  const inRange = (hour: string) => {
    const [, dt, hh] = /^dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})$/.exec(hour)!;
    const start = Date.parse(`${dt}T${hh}:00:00Z`);
    return (range.from === undefined || start + 3_600_000 > range.from) && (range.to === undefined || start < range.to);
  };
  const hours = [...new Set([...expected.keys(), ...aggregated.keys(), ...parquet.keys(), ...raw.keys()])].filter(inRange).sort();
  return hours.map((hour) => {
    const e = expected.get(hour) ?? { streamRecords: 0, expectedAggregated: 0, expectedLake: 0 };
    const row = { hour, ...e, aggregated: aggregated.get(hour) ?? 0, lakeParquet: parquet.get(hour) ?? 0, lakeRaw: raw.get(hour) ?? 0 };
    return { ...row, ok: row.aggregated === row.expectedAggregated && row.lakeParquet === row.expectedLake && row.lakeRaw === row.expectedLake };
  });
}
