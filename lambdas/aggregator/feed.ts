/**
 * The aggregates feed: every revision of a (campaign, window) row, published by the aggregator and
 * by `sdp dlq redrive` as the complete row on the aggregates stream (README, "The aggregates
 * stream"), when the stack has that stream (schemas/resources.ts aggregatesFeed).
 */
import type { AggregateRow } from '../../schemas/aggregates';
import { aggregatesFeedOn } from '../../schemas/resources';
import type { StreamWriter } from '../commons/stream-writer';

/** Puts the rows' revisions on the aggregates stream; nothing when the feed is off (the writer is not even made). */
export async function publishRevisions(writer: () => StreamWriter, rows: readonly AggregateRow[], periodSeconds: number): Promise<void> {
  if (!aggregatesFeedOn() || rows.length === 0) return;
  await writer().put(rows.map((row) => ({ partitionKey: String(row.campaign_item_id), data: Buffer.from(JSON.stringify({ ...row, period_seconds: periodSeconds })) })));
}
