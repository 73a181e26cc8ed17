/** The live aggregates: per (campaign, window) only a higher revision changes the row and its campaign's totals. */
import { AggregateState, aggregateRowOf } from '../../local/aggregate-feed';
import type { AggregateRow } from '../../schemas/aggregates';

const row = (campaign: number, period: number, revision: number, bids: number, clicks = 0): AggregateRow => ({
  campaign_item_id: campaign,
  period,
  revision,
  bids,
  impressions: 0,
  clicks,
  late_events: 0,
  updated_at: 1000 * revision,
});

it('sums the latest revision of each window per campaign, ignoring repeats and stale revisions', () => {
  const state = new AggregateState();
  expect(state.apply([row(1, 60, 1, 2), row(1, 120, 1, 1), row(2, 60, 1, 5)])).toHaveLength(3);
  expect(state.apply([row(1, 60, 3, 7, 1), row(1, 60, 2, 4), row(1, 60, 3, 7, 1)])).toEqual([row(1, 60, 3, 7, 1)]);
  expect(state.totalsOf(1)).toEqual({ campaign_item_id: 1, bids: 8, impressions: 0, clicks: 1, late_events: 0, updated_at: 3000 });
  expect(state.campaignTotals().map((c) => [c.campaign_item_id, c.bids])).toEqual([
    [1, 8],
    [2, 5],
  ]);
});

it('reads rows from table items and stream records, and refuses what is not one', () => {
  expect(aggregateRowOf({ campaign_item_id: 3, period: 60, revision: 2, bids: 4, period_seconds: 60, fence_shard: '9' })).toEqual({
    campaign_item_id: 3,
    period: 60,
    revision: 2,
    updated_at: 0,
    bids: 4,
    impressions: 0,
    clicks: 0,
    late_events: 0,
  });
  expect(aggregateRowOf({ campaign_item_id: '3', period: 60, revision: 2 })).toBeUndefined();
  expect(aggregateRowOf({ hello: 'world' })).toBeUndefined();
});
