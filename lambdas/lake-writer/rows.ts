/**
 * What the lake writer writes for a batch, as pure data: decoded stream records turned into rows of
 * the lake tables (schemas/lake.ts), grouped by table and event-time partition, with the file id
 * that names the batch's files. Deterministic: the same batch gives the same groups, rows and keys
 * in the same order, so a redelivered batch overwrites its own files instead of adding copies.
 */
import { winningImpression } from '../ml/outcome';
import type { StreamEvent } from '../../schemas/events';
import type { AggregateRow } from '../../schemas/aggregates';
import {
  EVENT_TABLES,
  lakeTables,
  partitionOf,
  type LakeRow,
  type LakeTable,
  type LakeValue,
  type Partition,
} from '../../schemas/lake';

/** The rows of one table in one partition: one raw file and one Parquet file. */
export interface LakeGroup<R = unknown> {
  table: LakeTable;
  partition: Partition;
  /** The records as they came (the raw JSON lines): for events, the stream record verbatim. */
  records: R[];
  /** The same records as rows of the table's columns (the Parquet rows). */
  rows: LakeRow[];
}

/** An aggregates-stream record: the row plus its window length (lambdas/aggregator/handler.ts). */
export type AggregateRecord = AggregateRow & { period_seconds: number };

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

const columnNames = Object.fromEntries(Object.values(lakeTables).map((t) => [t.name, t.columns.map((c) => c.name)])) as Record<LakeTable, string[]>;

/** Projects a record onto a table's columns: every column present, absent values null. */
export function toRow(table: LakeTable, record: object): LakeRow {
  const source = record as Record<string, unknown>;
  const row: LakeRow = {};
  for (const name of columnNames[table]) {
    const v = source[name];
    row[name] = v === undefined ? null : (v as LakeValue);
  }
  return row;
}

class Groups<R> {
  private readonly byKey = new Map<string, LakeGroup<R>>();

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

  /** Tables in LAKE_TABLES order, partitions ascending, records in arrival order. */
  list(): LakeGroup<R>[] {
    const tableOrder = Object.keys(lakeTables);
    return [...this.byKey.values()].sort(
      (a, b) =>
        tableOrder.indexOf(a.table) - tableOrder.indexOf(b.table) ||
        a.partition.dt.localeCompare(b.partition.dt) ||
        a.partition.hour.localeCompare(b.partition.hour),
    );
  }
}

/**
 * A batch of events as lake groups: each event in `bcns` and in its type's table, in the partition
 * of its event time.
 */
export function eventGroups(events: readonly StreamEvent[]): LakeGroup<StreamEvent>[] {
  const groups = new Groups<StreamEvent>();
  const partition = partitioner();
  for (const event of events) {
    const p = partition(event.event_time);
    groups.add('bcns', p, event, toRow('bcns', event));
    const table = EVENT_TABLES[event.type];
    groups.add(table, p, event, toRow(table, event));
  }
  return groups.list();
}

/** An aggregates-stream record as an `aggregates` row (period_start from period). */
export function aggregateRow(record: AggregateRecord): LakeRow {
  return toRow('aggregates', { ...record, period_start: record.period * 1000 });
}

/** A batch of aggregates-stream records as lake groups, partitioned by window start. */
export function aggregateGroups(records: readonly AggregateRecord[]): LakeGroup<AggregateRecord>[] {
  const groups = new Groups<AggregateRecord>();
  const partition = partitioner();
  for (const record of records) {
    const row = aggregateRow(record);
    groups.add('aggregates', partition(row.period_start as number), record, row);
  }
  return groups.list();
}

/**
 * Drops repeated events: an event is identified by (type, tx_id), as in the aggregator; the first
 * occurrence is kept. Clients may resend an event, so the stream (and the raw lake) can hold it
 * more than once.
 */
export function dedupeEvents<E extends Pick<StreamEvent, 'type' | 'tx_id'>>(events: readonly E[]): E[] {
  const seen = new Set<string>();
  const out: E[] = [];
  for (const e of events) {
    const key = `${e.type}\u0000${e.tx_id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out;
}

/**
 * `auctions` rows: one per distinct bid, joined by tx_id with its click (the first when repeated)
 * and, by the shared outcome rule (lambdas/ml/outcome.ts), its impression: the auction is won when
 * an impression of its tx_id has an event time within ±5 minutes of the bid's. Impressions and
 * clicks without a bid give no row. Rows follow the bids' order.
 */
export function auctionRows(events: readonly StreamEvent[]): LakeRow[] {
  const impressions = new Map<string, Extract<StreamEvent, { type: 'impression' }>[]>();
  const clicks = new Map<string, Extract<StreamEvent, { type: 'click' }>>();
  const bids: Extract<StreamEvent, { type: 'bid' }>[] = [];
  for (const e of dedupeEvents(events)) {
    if (e.type === 'bid') bids.push(e);
    else if (e.type === 'impression') impressions.set(e.tx_id, [...(impressions.get(e.tx_id) ?? []), e]);
    else clicks.set(e.tx_id, e);
  }
  return bids.map((bid) => {
    const imp = winningImpression(bid.event_time, impressions.get(bid.tx_id) ?? []);
    const click = clicks.get(bid.tx_id);
    return toRow('auctions', {
      ...bid,
      bid_price: bid.win_price,
      won: imp !== undefined,
      clearing_price: imp?.win_price,
      clicked: click !== undefined,
      impression_time: imp?.event_time,
      click_time: click?.event_time,
    });
  });
}

/** `auctions` rows grouped by the bid's event-time partition. */
export function auctionGroups(events: readonly StreamEvent[]): LakeGroup<LakeRow>[] {
  const groups = new Groups<LakeRow>();
  const partition = partitioner();
  for (const row of auctionRows(events)) groups.add('auctions', partition(row.event_time as number), row, row);
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
