/**
 * The data audit of the local platform, for any declared pipeline:
 * - per UTC hour of event time (and per stream), what the events stream holds (everything the API
 *   accepted, resends included) against what the lake keeps (`raw_`/`parquet_<lakeTable>`: each
 *   distinct event once) and what the aggregates count (the count measures and late events of
 *   every row, against the ground truth of the stream's records, local/ground-truth.ts);
 * - per aggregation and measure, the rows of the aggregates table against the same rows
 *   recomputed in SQL from the lake's stream tables (local/audit-sql.ts), row by row: counts, sums
 *   (to a relative 1e-9: the order of additions differs), minima and maxima exactly, late events.
 * It says where they disagree.
 */
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { listShards } from '../lambdas/commons/shards';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { partitionOf, partitionPath } from '../schemas/lake';
import { streams, tables } from '../schemas/resources';
import type { AggregationSpec, MeasureKind, Pipeline } from '../schemas/pipeline';
import { identityKey, type StreamRecord } from '../schemas/stream-record';
import { combineMeasure, groundTruth, rowKey } from './ground-truth';
import { aggregationSql } from './audit-sql';
import type { LakeSql } from './lake-sql';

export interface AuditRow {
  /** `dt=YYYY-MM-DD/hour=HH` */
  hour: string;
  /** Records on the stream, resends included. */
  streamRecords: number;
  /** Distinct events the aggregates should count (count measures and late events of every aggregation). */
  expectedAggregated: number;
  aggregated: number;
  /** Distinct events the lake should hold (every distinct event). */
  expectedLake: number;
  lakeParquet: number;
  lakeRaw: number;
  ok: boolean;
}

/** A stream's figures over the audited hours. */
export interface StreamAuditRow {
  stream: string;
  lakeTable: string;
  streamRecords: number;
  expectedLake: number;
  lakeParquet: number;
  lakeRaw: number;
  ok: boolean;
}

/** One measure of an aggregation (or its late events) over the audited hours: the lake's figure against the aggregates'. */
export interface AggregationAuditRow {
  aggregation: string;
  measure: string;
  /** Recomputed from the lake: the sum (count, sum, late events), least (min) or greatest (max) over its rows. */
  expected: number | null;
  aggregated: number | null;
  /** Rows (group and window) where the two disagree on this measure. */
  rowsDiffering: number;
  ok: boolean;
}

type HourFigures = Pick<AuditRow, 'streamRecords' | 'expectedLake'>;

const hourOf = (ms: number) => partitionPath(partitionOf(ms));

/** Per stream and hour, the records on the stream and the distinct events among them. Pure. */
export function expectedFromStream(pipeline: Pipeline, records: readonly StreamRecord[]): Map<string, Map<string, HourFigures>> {
  const out = new Map(pipeline.streams.map((s) => [s.name, new Map<string, HourFigures>()]));
  const seen = new Set<string>();
  for (const r of records) {
    const stream = pipeline.streams.find((s) => s.name === r.type);
    if (!stream) continue;
    const hours = out.get(stream.name)!;
    const hour = hourOf(r.event_time);
    const row = hours.get(hour) ?? hours.set(hour, { streamRecords: 0, expectedLake: 0 }).get(hour)!;
    row.streamRecords++;
    const key = `${stream.name}\u0000${identityKey(stream, r)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    row.expectedLake++;
  }
  return out;
}

/** The events an aggregate row aggregated: its count measures and its late events. */
function eventsAggregated(aggregation: AggregationSpec, row: Readonly<Record<string, unknown>>): number {
  return aggregation.measures.filter((m) => m.kind === 'count').reduce((n, m) => n + ((row[m.name] as number | undefined) ?? 0), (row.late_events as number | undefined) ?? 0);
}

/** Per hour, the events every aggregation's rows aggregated. Pure. */
export function aggregatedPerHour(pipeline: Pipeline, rows: ReadonlyMap<string, readonly Record<string, unknown>[]>): Map<string, number> {
  const out = new Map<string, number>();
  for (const aggregation of pipeline.aggregations) {
    for (const row of rows.get(aggregation.name) ?? []) {
      const hour = hourOf((row.period as number) * 1000);
      out.set(hour, (out.get(hour) ?? 0) + eventsAggregated(aggregation, row));
    }
  }
  return out;
}

/** The rows the aggregates should hold for the stream's records (the ground truth), by aggregation. Pure. */
export function expectedRowsFromStream(pipeline: Pipeline, records: readonly StreamRecord[], allowedLatenessMs: number): Map<string, Record<string, unknown>[]> {
  const known = records.filter((r) => pipeline.streams.some((s) => s.name === r.type));
  return groundTruth(pipeline, known, allowedLatenessMs);
}

/** Every record on the events stream, from the oldest it retains to its tip now; closed shards (a reshard's parents) included. */
export async function readEventsStream(kinesis: KinesisClient): Promise<StreamRecord[]> {
  const out: StreamRecord[] = [];
  for (const shard of await listShards(kinesis, streams.events.name)) {
    let iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: streams.events.name, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of page.Records ?? []) {
        try {
          const e = JSON.parse(Buffer.from(r.Data!).toString('utf8')) as StreamRecord;
          if (typeof e?.type === 'string' && typeof e.event_time === 'number' && typeof e.received_at === 'number') out.push(e);
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

/**
 * The aggregates table's rows, by aggregation (contract 1: each row names its `aggregation`; a row
 * without one, of the layout before declared pipelines, belongs to the pipeline's only aggregation).
 */
export async function readAggregateRows(db: DynamoDBDocumentClient, pipeline: Pipeline): Promise<Map<string, Record<string, unknown>[]>> {
  const out = new Map<string, Record<string, unknown>[]>(pipeline.aggregations.map((a) => [a.name, []]));
  const sole = pipeline.aggregations.length === 1 ? pipeline.aggregations[0].name : undefined;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: tables.aggregates.name, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      const name = typeof item.aggregation === 'string' ? item.aggregation : sole;
      if (name !== undefined) out.get(name)?.push(item);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** The lake's events per stream and hour, in one format (`<format>_<lakeTable>`). */
export async function lakePerStreamHour(lake: LakeSql, pipeline: Pipeline, format: 'raw' | 'parquet'): Promise<Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, number>>();
  for (const stream of pipeline.streams) {
    const { rows } = await lake.query(`SELECT dt, hour, count(*) AS n FROM ${format}_${stream.lakeTable} GROUP BY dt, hour`);
    out.set(stream.name, new Map(rows.map((r) => [`dt=${r.dt}/hour=${r.hour}`, r.n as number])));
  }
  return out;
}

/** Every aggregation's rows recomputed from the lake's Parquet stream tables, by aggregation. */
export async function lakeAggregateRows(lake: LakeSql, pipeline: Pipeline, allowedLatenessSeconds: number): Promise<Map<string, Record<string, unknown>[]>> {
  const out = new Map<string, Record<string, unknown>[]>();
  for (const aggregation of pipeline.aggregations) {
    const { rows } = await lake.query(aggregationSql(pipeline, aggregation, { allowedLatenessSeconds }));
    out.set(aggregation.name, rows.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null))));
  }
  return out;
}

export interface AuditRange {
  /** Epoch ms: hours that end after it. */
  from?: number;
  /** Epoch ms: hours that start before it. */
  to?: number;
}

function inRange(hour: string, range: AuditRange): boolean {
  const [, dt, hh] = /^dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})$/.exec(hour)!;
  const start = Date.parse(`${dt}T${hh}:00:00Z`);
  return (range.from === undefined || start + 3_600_000 > range.from) && (range.to === undefined || start < range.to);
}

const sumOf = (maps: Iterable<ReadonlyMap<string, number>>, hour: string) => [...maps].reduce((n, m) => n + (m.get(hour) ?? 0), 0);

/** One row per hour, in order (the hours that overlap [from, to) when given): every stream's figures summed. Pure. */
export function reconcile(
  expected: ReturnType<typeof expectedFromStream>,
  expectedAggregated: ReadonlyMap<string, number>,
  aggregated: ReadonlyMap<string, number>,
  parquet: ReadonlyMap<string, ReadonlyMap<string, number>>,
  raw: ReadonlyMap<string, ReadonlyMap<string, number>>,
  range: AuditRange = {},
): AuditRow[] {
  const hours = new Set([...expectedAggregated.keys(), ...aggregated.keys()]);
  for (const m of [...expected.values(), ...parquet.values(), ...raw.values()]) for (const h of m.keys()) hours.add(h);
  return [...hours].filter((h) => inRange(h, range)).sort().map((hour) => {
    const figures = [...expected.values()].map((m) => m.get(hour) ?? { streamRecords: 0, expectedLake: 0 });
    const row = {
      hour,
      streamRecords: figures.reduce((n, f) => n + f.streamRecords, 0),
      expectedAggregated: expectedAggregated.get(hour) ?? 0,
      aggregated: aggregated.get(hour) ?? 0,
      expectedLake: figures.reduce((n, f) => n + f.expectedLake, 0),
      lakeParquet: sumOf(parquet.values(), hour),
      lakeRaw: sumOf(raw.values(), hour),
    };
    return { ...row, ok: row.aggregated === row.expectedAggregated && row.lakeParquet === row.expectedLake && row.lakeRaw === row.expectedLake };
  });
}

/** One row per stream: its figures over the hours in range. Pure. */
export function reconcileStreams(
  pipeline: Pipeline,
  expected: ReturnType<typeof expectedFromStream>,
  parquet: ReadonlyMap<string, ReadonlyMap<string, number>>,
  raw: ReadonlyMap<string, ReadonlyMap<string, number>>,
  range: AuditRange = {},
): StreamAuditRow[] {
  return pipeline.streams.map((s) => {
    const total = (m: ReadonlyMap<string, number> | undefined) => [...(m ?? new Map<string, number>())].filter(([h]) => inRange(h, range)).reduce((n, [, v]) => n + v, 0);
    const figures = [...(expected.get(s.name) ?? new Map<string, HourFigures>())].filter(([h]) => inRange(h, range)).map(([, f]) => f);
    const row = {
      stream: s.name,
      lakeTable: s.lakeTable,
      streamRecords: figures.reduce((n, f) => n + f.streamRecords, 0),
      expectedLake: figures.reduce((n, f) => n + f.expectedLake, 0),
      lakeParquet: total(parquet.get(s.name)),
      lakeRaw: total(raw.get(s.name)),
    };
    return { ...row, ok: row.lakeParquet === row.expectedLake && row.lakeRaw === row.expectedLake };
  });
}

function same(kind: MeasureKind, a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (kind !== 'sum') return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/**
 * Per aggregation and measure (and late events), the rows recomputed from the lake against the
 * aggregates' rows, row by row (group and window; a row missing on one side is an empty row
 * there), over the windows that start in an hour in range. Pure.
 */
export function reconcileAggregations(
  pipeline: Pipeline,
  expected: ReadonlyMap<string, readonly Record<string, unknown>[]>,
  aggregated: ReadonlyMap<string, readonly Record<string, unknown>[]>,
  range: AuditRange = {},
): AggregationAuditRow[] {
  return pipeline.aggregations.flatMap((aggregation) => {
    const keyed = (rows: readonly Record<string, unknown>[] | undefined) =>
      new Map((rows ?? []).filter((r) => inRange(hourOf((r.period as number) * 1000), range)).map((r) => [rowKey(aggregation, r), r]));
    const want = keyed(expected.get(aggregation.name));
    const have = keyed(aggregated.get(aggregation.name));
    const keys = new Set([...want.keys(), ...have.keys()]);
    const measures: { name: string; kind: MeasureKind }[] = [...aggregation.measures, { name: 'late_events', kind: 'count' }];
    return measures.map(({ name, kind }) => {
      const zero = kind === 'count' || kind === 'sum' ? 0 : undefined;
      let e: number | undefined;
      let a: number | undefined;
      let rowsDiffering = 0;
      for (const key of keys) {
        const ev = (want.get(key)?.[name] as number | undefined) ?? zero;
        const av = (have.get(key)?.[name] as number | undefined) ?? zero;
        if (!same(kind, ev, av)) rowsDiffering++;
        e = combineMeasure(kind, e, ev);
        a = combineMeasure(kind, a, av);
      }
      return { aggregation: aggregation.name, measure: name, expected: e ?? zero ?? null, aggregated: a ?? zero ?? null, rowsDiffering, ok: rowsDiffering === 0 };
    });
  });
}
