/**
 * Ad-tech's campaigns row (pipelines/adtech.ts, aggregation `campaigns`) as its readers type it:
 * the reports, the audit, the live console and the exactness bench read bids, impressions, clicks
 * and late_events per (campaign, window). The aggregator itself is generic (schemas/aggregates.ts).
 */
import { ratio } from '../../lambdas/reports/measures';

export const COUNTERS = ['bids', 'impressions', 'clicks', 'late_events'] as const;
export type Counter = (typeof COUNTERS)[number];
export type Totals = Record<Counter, number>;

/** The aggregation ad-tech's rows belong to. */
export const CAMPAIGNS_AGGREGATION = 'campaigns';

export function zeroTotals(): Totals {
  return { bids: 0, impressions: 0, clicks: 0, late_events: 0 };
}

/** A (campaign, window) row as published on the aggregates feed; `revision` grows by one with every change. */
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

export interface DerivedMetrics {
  /** clicks / impressions; null when there are no impressions. */
  ctr: number | null;
  /** impressions / bids; null when there are no bids. */
  win_rate: number | null;
}

/** The ratios shown on every report row: computed from the counts, never stored. Rounded to 6 decimals. */
export function derivedMetrics(counts: { bids: number; impressions: number; clicks: number }): DerivedMetrics {
  return { ctr: ratio(counts.clicks, counts.impressions), win_rate: ratio(counts.impressions, counts.bids) };
}
