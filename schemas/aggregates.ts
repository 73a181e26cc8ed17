/**
 * The aggregate row: what the aggregator counts per (campaign, window), what the reports sum and
 * what the aggregates stream carries. Counters are listed once here.
 */

export const COUNTERS = ['bids', 'impressions', 'clicks', 'late_events'] as const;
export type Counter = (typeof COUNTERS)[number];
export type Totals = Record<Counter, number>;

export function zeroTotals(): Totals {
  return { bids: 0, impressions: 0, clicks: 0, late_events: 0 };
}

/** A stored (campaign, window) row; `revision` grows by one with every change. */
export interface AggregateRow extends Totals {
  campaign_item_id: number;
  /** Window start, epoch seconds. */
  period: number;
  revision: number;
  updated_at: number;
}

/** Reads the counters of a stored item, absent ones as zero. */
export function totalsOf(item: Record<string, unknown>): Totals {
  const totals = zeroTotals();
  for (const c of COUNTERS) totals[c] = (item[c] as number | undefined) ?? 0;
  return totals;
}

/**
 * The row layout of declared aggregations (schemas/pipeline.ts), in the `aggregates` table: key
 * `group` (S), this function's value, and `period` (N), the window's start in epoch seconds;
 * attributes `aggregation`, each group field under its own name, each measure under its name
 * (min and max absent until a value arrives), `late_events`, `revision`, `updated_at`, and the
 * aggregator's per-shard fences.
 */
export function groupKey(aggregation: string, values: readonly (string | number | boolean)[]): string {
  return `${aggregation}#${JSON.stringify(values)}`;
}
