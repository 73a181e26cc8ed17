/**
 * Follows the aggregates as they change, for live views: reads the aggregates table once, then the
 * aggregates stream from a position taken just before that read, so no revision falls between the
 * two. The stream delivers at least once and may repeat or reorder revisions: per (campaign,
 * window) only a higher revision than the one known changes anything. It runs only while someone
 * listens, so a platform with no console open does no extra work.
 */
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { COUNTERS, totalsOf, type AggregateRow, type Totals } from '../schemas/aggregates';

export interface CampaignTotals extends Totals {
  campaign_item_id: number;
  /** Epoch ms of the campaign's latest change. */
  updated_at: number;
}

export type FeedUpdate =
  /** Every campaign's totals: on start, and again after the feed had to re-read the table. */
  | { kind: 'snapshot'; campaigns: CampaignTotals[] }
  /** Rows that changed, each with its campaign's new totals. */
  | { kind: 'changes'; rows: AggregateRow[]; campaigns: CampaignTotals[] };

interface Campaign {
  totals: CampaignTotals;
  rows: Map<number, AggregateRow>;
}

/** The latest revision of every (campaign, window) row and each campaign's totals. Pure. */
export class AggregateState {
  private readonly campaigns = new Map<number, Campaign>();

  campaignTotals(): CampaignTotals[] {
    return [...this.campaigns.values()].map((c) => ({ ...c.totals }));
  }

  /** Applies rows (from the table or the stream); returns those that were news, in the order given. */
  apply(rows: readonly AggregateRow[]): AggregateRow[] {
    const news: AggregateRow[] = [];
    for (const row of rows) {
      let campaign = this.campaigns.get(row.campaign_item_id);
      if (!campaign) {
        campaign = { totals: { campaign_item_id: row.campaign_item_id, bids: 0, impressions: 0, clicks: 0, late_events: 0, updated_at: 0 }, rows: new Map() };
        this.campaigns.set(row.campaign_item_id, campaign);
      }
      const known = campaign.rows.get(row.period);
      if (known && known.revision >= row.revision) continue;
      for (const c of COUNTERS) campaign.totals[c] += row[c] - (known?.[c] ?? 0);
      campaign.totals.updated_at = Math.max(campaign.totals.updated_at, row.updated_at);
      campaign.rows.set(row.period, row);
      news.push(row);
    }
    return news;
  }

  totalsOf(campaignItemId: number): CampaignTotals | undefined {
    const campaign = this.campaigns.get(campaignItemId);
    return campaign && { ...campaign.totals };
  }
}

/** An aggregate row from a table item or a stream record; undefined when it is not one. */
export function aggregateRowOf(item: Record<string, unknown>): AggregateRow | undefined {
  const { campaign_item_id, period, revision, updated_at } = item;
  if (![campaign_item_id, period, revision].every((v) => typeof v === 'number')) return undefined;
  return {
    campaign_item_id: campaign_item_id as number,
    period: period as number,
    revision: revision as number,
    updated_at: typeof updated_at === 'number' ? updated_at : 0,
    ...totalsOf(item),
  };
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

  /** Every campaign's totals, or undefined while the feed has not read the table yet. */
  snapshot(): CampaignTotals[] | undefined {
    return this.iterators && this.state?.campaignTotals();
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
    this.emit({ kind: 'snapshot', campaigns: state.campaignTotals() });
  }

  /** One read of every shard; true when it found records, so there may be more right away. */
  private async readStream(): Promise<boolean> {
    const rows: AggregateRow[] = [];
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
      const touched = [...new Set(news.map((r) => r.campaign_item_id))];
      this.emit({ kind: 'changes', rows: news, campaigns: touched.map((id) => this.state!.totalsOf(id)!) });
    }
    return more;
  }
}
