/**
 * The aggregates feed: every revision of an aggregation's (group, window) row, published by the
 * aggregator and by `sdp dlq redrive` as the complete row on the aggregates stream (README, "The
 * aggregates stream"), when the stack has that stream (schemas/resources.ts aggregatesFeed): the
 * row as stored without its `group` key and fences (schemas/aggregates.ts AggregationRow), and
 * its window's length, `period_seconds`.
 */
import { groupKey, type AggregationRow } from '../../schemas/aggregates';
import type { FieldValue } from '../../schemas/pipeline';
import { aggregatesFeedOn } from '../../schemas/resources';
import type { StreamWriter } from '../commons/stream-writer';
import { aggregationNamed } from './aggregations';

/**
 * Puts the rows' revisions on the aggregates stream, partitioned by group; nothing when the feed is
 * off (the writer is not even made). `periodSeconds` overrides the aggregations' declared periods.
 */
export async function publishRevisions(writer: () => StreamWriter, rows: readonly AggregationRow[], periodSeconds: number | undefined): Promise<void> {
  if (!aggregatesFeedOn() || rows.length === 0) return;
  await writer().put(
    rows.map((row) => {
      const aggregation = aggregationNamed(row.aggregation);
      const group = groupKey(aggregation.name, aggregation.groupBy.map((g) => row[g.name] as FieldValue));
      // A Kinesis partition key is at most 256 characters; it only spreads the rows over shards.
      return { partitionKey: group.slice(0, 256), data: Buffer.from(JSON.stringify({ ...row, period_seconds: periodSeconds ?? aggregation.periodSeconds })) };
    }),
  );
}
