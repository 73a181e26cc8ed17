/**
 * What the lake writer writes for a batch, as pure data: decoded stream records and aggregate feed
 * records turned into rows of the pipeline's lake tables (schemas/lake.ts), grouped by table and event-time partition, with the file id
 * that names the batch's files. Deterministic: the same batch gives the same groups, rows and keys
 * in the same order, so a redelivered batch overwrites its own files instead of adding copies.
 */
import { activePipeline } from '../../schemas/active-pipeline';
import { aggregationOf, streamOf, type AggregationSpec, type Pipeline } from '../../schemas/pipeline';
import { identityKey, type StreamRecord } from '../../schemas/stream-record';
import { lakeTablesOf, partitionOf, projectRow, type LakeRow, type LakeTable, type LakeTableDef, type Partition } from '../../schemas/lake';

/** The rows of one table in one partition: one raw file and one Parquet file. */
export interface LakeGroup<R = unknown> {
  table: LakeTable;
  partition: Partition;
  /** The records as they came (the raw JSON lines): for events, the stream record verbatim. */
  records: R[];
  /** The same records as rows of the table's columns (the Parquet rows). */
  rows: LakeRow[];
}

/**
 * An aggregates-feed record (contract 3): `aggregation`, the group fields, `period`, the measures,
 * `late_events`, `revision`, `updated_at`, and the window's length when the aggregator sends it.
 * A record without `aggregation` (an older aggregator's) belongs to the pipeline's only aggregation.
 */
export type AggregateRecord = { aggregation?: string; period: number; period_seconds?: number; revision: number; updated_at: number } & Record<string, unknown>;

/** A stream record as the lake writer needs it (schemas/stream-record.ts StreamRecord, or a narrower type of one). */
export type LakeEvent = { readonly type: string; readonly event_time: number };

const HOUR_MS = 3_600_000;

/** partitionOf with a cache per hour, for batches of many events in few hours. */
function partitioner(): (timeMs: number) => Partition {
  const cache = new Map<number, Partition>();
  return (timeMs) => {
    const hour = Math.floor(timeMs / HOUR_MS);
    let p = cache.get(hour);
    if (!p) {
      p = partitionOf(timeMs);
      cache.set(hour, p);
    }
    return p;
  };
}

function tableOf(pipeline: Pipeline, table: LakeTable): LakeTableDef {
  const t = lakeTablesOf(pipeline).find((x) => x.name === table);
  if (!t) throw new Error(`lake: no table ${table} in pipeline ${pipeline.name}`);
  return t;
}

/** Projects a record onto a table's columns: every column present, absent values null. */
export function toRow(table: LakeTable, record: object, pipeline: Pipeline = activePipeline()): LakeRow {
  return projectRow(tableOf(pipeline, table).columns, record);
}

class Groups<R> {
  private readonly byKey = new Map<string, LakeGroup<R>>();

  constructor(private readonly pipeline: Pipeline) {}

  add(table: LakeTable, partition: Partition, record: R, row: LakeRow): void {
    const key = `${table}/${partition.dt}/${partition.hour}`;
    let group = this.byKey.get(key);
    if (!group) {
      group = { table, partition, records: [], rows: [] };
      this.byKey.set(key, group);
    }
    group.records.push(record);
    group.rows.push(row);
  }

  /** Tables in lakeTablesOf order, partitions ascending, records in arrival order. */
  list(): LakeGroup<R>[] {
    const tableOrder = lakeTablesOf(this.pipeline).map((t) => t.name);
    return [...this.byKey.values()].sort(
      (a, b) =>
        tableOrder.indexOf(a.table) - tableOrder.indexOf(b.table) ||
        a.partition.dt.localeCompare(b.partition.dt) ||
        a.partition.hour.localeCompare(b.partition.hour),
    );
  }
}

/** The tables an event of each stream goes to: the events tables holding it, then its stream's table. */
function tablesByStream(pipeline: Pipeline): Map<string, LakeTableDef[]> {
  const out = new Map<string, LakeTableDef[]>();
  for (const t of lakeTablesOf(pipeline)) {
    if (t.kind !== 'events' && t.kind !== 'stream') continue;
    for (const s of t.streams) out.set(s, [...(out.get(s) ?? []), t]);
  }
  return out;
}

/**
 * A batch of stream records as lake groups: each event in its stream's table and in the events
 * table that holds its stream (adtech's `bcns`), in the partition of its event time.
 */
export function eventGroups<R extends LakeEvent>(events: readonly R[], pipeline: Pipeline = activePipeline()): LakeGroup<R>[] {
  const groups = new Groups<R>(pipeline);
  const partition = partitioner();
  const byStream = tablesByStream(pipeline);
  for (const event of events) {
    const p = partition(event.event_time);
    const tables = byStream.get(event.type);
    if (!tables) throw new Error(`lake: ${streamOf(pipeline, event.type).name} has no lake table`);
    for (const table of tables) groups.add(table.name, p, event, projectRow(table.columns, event));
  }
  return groups.list();
}

/** The aggregation of a feed record: its `aggregation`, or the pipeline's only one for a record without. */
export function aggregationOfRecord(record: { aggregation?: unknown }, pipeline: Pipeline = activePipeline()): AggregationSpec {
  if (typeof record.aggregation === 'string') return aggregationOf(pipeline, record.aggregation);
  if (record.aggregation === undefined && pipeline.aggregations.length === 1) return pipeline.aggregations[0];
  throw new Error('an aggregate record names no aggregation');
}

/**
 * Why a feed record is not a row of its aggregation (undefined when it is one): the aggregation
 * unknown, a group field missing or not of its kind, period or revision not a number.
 */
export function aggregateRecordProblem(record: unknown, pipeline: Pipeline = activePipeline()): string | undefined {
  if (typeof record !== 'object' || record === null) return 'not an aggregate row';
  const r = record as Record<string, unknown>;
  let a: AggregationSpec;
  try {
    a = aggregationOfRecord(r, pipeline);
  } catch (err) {
    return (err as Error).message;
  }
  for (const g of a.groupBy) {
    const want = g.kind === 'integer' || g.kind === 'number' ? 'number' : g.kind;
    if (typeof r[g.name] !== want) return `${g.name} is not a ${want}`;
  }
  for (const f of ['period', 'revision']) if (typeof r[f] !== 'number') return `${f} is not a number`;
  return undefined;
}

/** A feed record as a row of its aggregation's table (period_start from period, period_seconds from the declaration when absent). */
export function aggregateRow(record: AggregateRecord, pipeline: Pipeline = activePipeline()): LakeRow {
  const a = aggregationOfRecord(record, pipeline);
  return toRow(a.lakeTable, { period_seconds: a.periodSeconds, ...record, period_start: record.period * 1000 }, pipeline);
}

/** A batch of feed records as lake groups, each in its aggregation's table, partitioned by window start. */
export function aggregateGroups(records: readonly AggregateRecord[], pipeline: Pipeline = activePipeline()): LakeGroup<AggregateRecord>[] {
  const groups = new Groups<AggregateRecord>(pipeline);
  const partition = partitioner();
  for (const record of records) {
    const row = aggregateRow(record, pipeline);
    groups.add(aggregationOfRecord(record, pipeline).lakeTable, partition(row.period_start as number), record, row);
  }
  return groups.list();
}

/**
 * Drops repeated events: an event is identified by its stream and identity, as in the
 * aggregator; the first occurrence is kept. Clients may resend an event, so the stream (and the
 * raw lake) can hold it more than once.
 */
export function dedupeEvents<E extends LakeEvent>(events: readonly E[], pipeline: Pipeline = activePipeline()): E[] {
  const seen = new Set<string>();
  const out: E[] = [];
  for (const e of events) {
    const key = `${e.type}\u0000${identityKey(streamOf(pipeline, e.type), e as object as Record<string, unknown>)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out;
}

/** A built table's rows (LakeTableDeclaration.rows) from events, grouped by their event-time partition. */
export function builtGroups(table: LakeTable, events: readonly LakeEvent[], pipeline: Pipeline = activePipeline()): LakeGroup<LakeRow>[] {
  const built = (pipeline.builtTables ?? []).find((t) => t.name === table);
  if (!built) throw new Error(`lake: ${table} is not a table pipeline ${pipeline.name} builds`);
  const groups = new Groups<LakeRow>(pipeline);
  const partition = partitioner();
  for (const row of built.rows(events as readonly StreamRecord[])) groups.add(table, partition(row.event_time as number), row, row);
  return groups.list();
}

const SHARD_ID = /^[A-Za-z0-9_-]+$/;
const SEQUENCE = /^\d+$/;

/**
 * The id of a batch's files: `<shardId>-<firstSequenceNumber>-<lastSequenceNumber>`, e.g.
 * `shardId-000000000001-49590338271490256608559692538361571095921575989136588898-4959…`.
 *
 * The whole range, not only its start: a batch is a run of one shard's records, so the range
 * names exactly its records, and only a delivery of the very same records (a retry, a redrive)
 * writes the same keys again, overwriting its own files with the same rows. A read with other
 * boundaries (a bisected half, a read after a crash or a checkpoint reset, a replay from the
 * stream's start) writes other keys, and never overwrites with fewer rows a file whose events the
 * lake-seen states say are written there (select.ts). (Files named after the first record only, by
 * older versions, are never written again.)
 */
export function fileIdFor(shardId: string, firstSequenceNumber: string, lastSequenceNumber: string): string {
  if (!SHARD_ID.test(shardId)) throw new Error(`lake: unexpected shard id "${shardId}"`);
  for (const seq of [firstSequenceNumber, lastSequenceNumber]) {
    if (!SEQUENCE.test(seq)) throw new Error(`lake: not a sequence number: "${seq}"`);
  }
  return `${shardId}-${firstSequenceNumber}-${lastSequenceNumber}`;
}
