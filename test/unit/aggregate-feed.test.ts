/** The live aggregates: per (group, window) only a higher revision changes the row and its group's totals, for any declared aggregation. */
import { AggregateState, aggregateRowOf } from '../../local/aggregate-feed';
import type { AggregationRow } from '../../schemas/aggregates';
import { combinePipelines } from '../../schemas/pipeline';
import adtech from '../../pipelines/adtech';
import telemetry from '../../pipelines/telemetry';

const pipeline = combinePipelines([adtech, telemetry]);

const row = (campaign: number, period: number, revision: number, bids: number, clicks = 0): AggregationRow => ({
  aggregation: 'campaigns',
  campaign_item_id: campaign,
  period,
  revision,
  bids,
  impressions: 0,
  clicks,
  late_events: 0,
  updated_at: 1000 * revision,
});

const reading = (device: string, metric: string, period: number, revision: number, values: { readings: number; total: number; minimum: number; maximum: number }): AggregationRow => ({
  aggregation: 'devices',
  device_id: device,
  metric,
  period,
  revision,
  ...values,
  late_events: 0,
  updated_at: 1000 * revision,
});

it('sums the latest revision of each window per campaign, ignoring repeats and stale revisions', () => {
  const state = new AggregateState(pipeline);
  expect(state.apply([row(1, 60, 1, 2), row(1, 120, 1, 1), row(2, 60, 1, 5)])).toHaveLength(3);
  expect(state.apply([row(1, 60, 3, 7, 1), row(1, 60, 2, 4), row(1, 60, 3, 7, 1)])).toEqual([row(1, 60, 3, 7, 1)]);
  expect(state.totalsOf('campaigns', [1])).toEqual({ aggregation: 'campaigns', campaign_item_id: 1, bids: 8, impressions: 0, clicks: 1, late_events: 0, updated_at: 3000 });
  expect(state.groupTotals().map((c) => [c.campaign_item_id, c.bids])).toEqual([
    [1, 8],
    [2, 5],
  ]);
});

it('keeps every aggregation apart and combines minima and maxima by their kind, even when a revision lowers the maximum', () => {
  const state = new AggregateState(pipeline);
  state.apply([row(1, 60, 1, 2), reading('d1', 'cpu', 60, 1, { readings: 2, total: 9, minimum: 4, maximum: 5 }), reading('d1', 'cpu', 120, 1, { readings: 1, total: 7, minimum: 7, maximum: 7 })]);
  expect(state.totalsOf('devices', ['d1', 'cpu'])).toEqual({ aggregation: 'devices', device_id: 'd1', metric: 'cpu', readings: 3, total: 16, minimum: 4, maximum: 7, late_events: 0, updated_at: 1000 });
  // A later revision of window 120 (the aggregator never lowers a maximum, but the feed must not assume it).
  state.apply([reading('d1', 'cpu', 120, 2, { readings: 2, total: 8, minimum: 2, maximum: 6 })]);
  expect(state.totalsOf('devices', ['d1', 'cpu'])).toMatchObject({ readings: 4, total: 17, minimum: 2, maximum: 6, updated_at: 2000 });
  expect(state.groupTotals().map((g) => g.aggregation).sort()).toEqual(['campaigns', 'devices']);
  expect(state.totalsOfRows([row(1, 60, 1, 2), row(1, 120, 1, 2)])).toHaveLength(1);
});

it('skips rows of an aggregation the pipeline does not declare, or missing a group field', () => {
  const state = new AggregateState(adtech);
  expect(state.apply([reading('d1', 'cpu', 60, 1, { readings: 1, total: 1, minimum: 1, maximum: 1 }), { aggregation: 'campaigns', period: 60, revision: 1, late_events: 0, updated_at: 0 }])).toEqual([]);
  expect(state.groupTotals()).toEqual([]);
});

it('reads rows from table items and stream records, and refuses what is not one', () => {
  expect(aggregateRowOf({ group: 'campaigns#[3]', aggregation: 'campaigns', campaign_item_id: 3, period: 60, revision: 2, bids: 4, impressions: 0, clicks: 0, late_events: 0, updated_at: 7, fence_shard: '9' })).toEqual({
    aggregation: 'campaigns',
    campaign_item_id: 3,
    period: 60,
    revision: 2,
    updated_at: 7,
    bids: 4,
    impressions: 0,
    clicks: 0,
    late_events: 0,
  });
  expect(aggregateRowOf({ aggregation: 'campaigns', campaign_item_id: 3, period: '60', revision: 2 })).toBeUndefined();
  expect(aggregateRowOf({ campaign_item_id: 3, period: 60, revision: 2 })).toBeUndefined();
  expect(aggregateRowOf({ hello: 'world' })).toBeUndefined();
});
