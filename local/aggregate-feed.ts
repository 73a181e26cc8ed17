/**
 * Follows the aggregates as they change, for live views: reads the aggregates table once, then the
 * aggregates stream from a position taken just before that read, so no revision falls between the
 * two. Rows of every declared aggregation (schemas/pipeline.ts), in the feed record's shape
 * (contract 3 of issue 19): `{ aggregation, <group fields>, period, <measures>, late_events,
 * revision, updated_at }`. The stream delivers at least once and may repeat or reorder revisions:
 * per (group, window) only a higher revision than the one known changes anything. It runs only
 * while someone listens, so a platform with no console open does no extra work.
 */
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { feedRowOf, groupKey, type AggregationRow } from '../schemas/aggregates';
import type { AggregationSpec, FieldValue, Pipeline } from '../schemas/pipeline';
import { activePipeline } from '../schemas/active-pipeline';
import { combineRows } from '../lambdas/reports/measures';

/**
 * A group's totals over its windows: `{ aggregation, <group fields>, <measures>, late_events,
 * updated_at }` (measures combined by their kind, minima and maxima null with no value; updated_at
 * the epoch ms of the group's latest change).
 */
export type GroupTotals = { aggregation: string; updated_at: number } & Record<string, FieldValue | null>;

export type FeedUpdate =
  /** Every group's totals: on start, and again after the feed had to re-read the table. */
  | { kind: 'snapshot'; groups: GroupTotals[] }
  /** Rows that changed, each with its group's new totals. */
  | { kind: 'changes'; rows: AggregationRow[]; groups: GroupTotals[] };

interface Group {
  aggregation: AggregationSpec;
  values: FieldValue[];
  totals: GroupTotals;
  rows: Map<number, AggregationRow>;
}

/** The key of a row's group, and its values in groupBy order; undefined when a group field is absent. */
function groupOf(aggregation: AggregationSpec, row: AggregationRow): { key: string; values: FieldValue[] } | undefined {
  const values = aggregation.groupBy.map((g) => row[g.name]);
  if (values.some((v) => v === undefined || v === null)) return undefined;
  return { key: groupKey(aggregation.name, values), values };
}

/** The latest revision of every (group, window) row and each group's totals. Pure. */
export class AggregateState {
  private readonly groups = new Map<string, Group>();
  private readonly aggregations: Map<string, AggregationSpec>;

  constructor(pipeline: Pipeline = activePipeline()) {
    this.aggregations = new Map(pipeline.aggregations.map((a) => [a.name, a]));
  }

  groupTotals(): GroupTotals[] {
    return [...this.groups.values()].map((g) => ({ ...g.totals }));
  }

  /** Applies rows (from the table or the stream); returns those that were news, in the order given. Rows of no declared aggregation are skipped. */
  apply(rows: readonly AggregationRow[]): AggregationRow[] {
    const news: AggregationRow[] = [];
    const touched = new Set<Group>();
    for (const row of rows) {
      const aggregation = this.aggregations.get(row.aggregation);
      const of = aggregation && groupOf(aggregation, row);
      if (!aggregation || !of) continue;
      let group = this.groups.get(of.key);
      if (!group) {
        group = { aggregation, values: of.values, totals: { aggregation: aggregation.name, updated_at: 0 }, rows: new Map() };
        this.groups.set(of.key, group);
      }
      const known = group.rows.get(row.period);
      if (known && known.revision >= row.revision) continue;
      group.rows.set(row.period, row);
      group.totals.updated_at = Math.max(group.totals.updated_at, row.updated_at);
      touched.add(group);
      news.push(row);
    }
    // Minima and maxima cannot be taken back when a window's revision replaces it: recombined.
    for (const group of touched) {
      const fields = Object.fromEntries(group.aggregation.groupBy.map((g, i) => [g.name, group.values[i]]));
      group.totals = { aggregation: group.aggregation.name, ...fields, ...combineRows(group.aggregation, [...group.rows.values()]), updated_at: group.totals.updated_at };
    }
    return news;
  }

  /** A group's totals, by its aggregation's name and its values in groupBy order. */
  totalsOf(aggregation: string, values: readonly FieldValue[]): GroupTotals | undefined {
    const group = this.groups.get(groupKey(aggregation, values));
    return group && { ...group.totals };
  }

  /** The totals of the groups of these rows, each once. */
  totalsOfRows(rows: readonly AggregationRow[]): GroupTotals[] {
    const keys = new Set<string>();
    for (const row of rows) {
      const aggregation = this.aggregations.get(row.aggregation);
      const of = aggregation && groupOf(aggregation, row);
      if (of) keys.add(of.key);
    }
    return [...keys].map((k) => ({ ...this.groups.get(k)!.totals }));
  }
}

/** An aggregate row from a table item or a stream record (contract 3's shape); undefined when it is not one. */
export function aggregateRowOf(item: Record<string, unknown>): AggregationRow | undefined {
  const { aggregation, period, revision } = item;
  if (typeof aggregation !== 'string' || typeof period !== 'number' || typeof revision !== 'number') return undefined;
  return feedRowOf(item);
}

export interface AggregateFeedOptions {
  kinesis: KinesisClient;
  db: DynamoDBDocumentClient;
  table: string;
  stream: string;
  /** Pause between reads of the stream when it had nothing new. */
  intervalMs?: number;
  onError?: (message: string, err: unknown) => void;
}

export class AggregateFeed {
  private readonly listeners = new Set<(update: FeedUpdate) => void>();
  private state?: AggregateState;
  private iterators?: Map<string, string>;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(private readonly options: AggregateFeedOptions) {}

  /** Every group's totals, or undefined while the feed has not read the table yet. */
  snapshot(): GroupTotals[] | undefined {
    return this.iterators && this.state?.groupTotals();
  }

  /** Starts the feed with the first listener; the returned function unsubscribes (the last one stops it). */
  subscribe(listener: (update: FeedUpdate) => void): () => Promise<void> {
    this.listeners.add(listener);
    this.loop ??= this.run();
    return async () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) await this.stop();
    };
  }

  async stop(): Promise<void> {
    this.listeners.clear();
    this.wake?.();
    await this.loop;
  }

  private get running(): boolean {
    return this.listeners.size > 0;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let more = false;
      try {
        if (!this.iterators) await this.sync();
        more = await this.readStream();
      } catch (err) {
        this.options.onError?.('live aggregates feed: re-reading the table', err);
        this.iterators = undefined;
      }
      if (!more) await this.pause();
    }
    this.iterators = undefined;
    this.state = undefined;
    this.loop = undefined;
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.options.intervalMs ?? 1000);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private emit(update: FeedUpdate): void {
    for (const listener of this.listeners) listener(update);
  }

  private async sync(): Promise<void> {
    const { kinesis, stream } = this.options;
    const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
    const iterators = new Map<string, string>();
    for (const shard of Shards) {
      const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId!, ShardIteratorType: 'LATEST' }));
      if (ShardIterator) iterators.set(shard.ShardId!, ShardIterator);
    }
    const state = new AggregateState();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.db.send(new ScanCommand({ TableName: this.options.table, ExclusiveStartKey: start }));
      state.apply((page.Items ?? []).flatMap((item) => aggregateRowOf(item) ?? []));
      start = page.LastEvaluatedKey;
    } while (start && this.running);
    this.state = state;
    this.iterators = iterators;
    this.emit({ kind: 'snapshot', groups: state.groupTotals() });
  }

  /** One read of every shard; true when it found records, so there may be more right away. */
  private async readStream(): Promise<boolean> {
    const rows: AggregationRow[] = [];
    let more = false;
    for (const [shardId, iterator] of this.iterators!) {
      const out = await this.options.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      if (out.NextShardIterator) this.iterators!.set(shardId, out.NextShardIterator);
      else this.iterators!.delete(shardId);
      for (const record of out.Records ?? []) {
        try {
          const row = aggregateRowOf(JSON.parse(Buffer.from(record.Data!).toString('utf8')));
          if (row) rows.push(row);
        } catch {
          // not an aggregate row: nothing to show
        }
      }
      more ||= (out.Records?.length ?? 0) > 0;
    }
    const news = this.state!.apply(rows);
    if (news.length > 0) {
      this.emit({ kind: 'changes', rows: news, groups: this.state!.totalsOfRows(news) });
    }
    return more;
  }
}
