/** The lake writer's pure core (lambdas/lake-writer/rows.ts): rows per table and partition, deterministic file ids. */
import type { StreamEvent } from '../../pipelines/adtech/events';
import {
  aggregateGroups,
  aggregateRow,
  builtGroups,
  dedupeEvents,
  eventGroups,
  fileIdFor,
  toRow,
} from '../../lambdas/lake-writer/rows';
import { auctionRows } from '../../lambdas/ml/auction-rows';

const auctionGroups = (events: readonly StreamEvent[]) => builtGroups('auctions', events);

const H10 = Date.UTC(2026, 10, 21, 10);
const MIDNIGHT = Date.UTC(2026, 10, 22);

const bid = (tx_id: string, event_time: number, extra: Partial<Extract<StreamEvent, { type: 'bid' }>> = {}): StreamEvent => ({
  type: 'bid', tx_id, app_uid: `u-${tx_id}`, campaign_item_id: 42, domain: 'news.example', win_price: 120,
  received_at: event_time + 5, event_time, ...extra,
});
const impression = (tx_id: string, event_time: number, win_price = 95): StreamEvent => ({ type: 'impression', tx_id, win_price, received_at: event_time + 5, event_time });
const click = (tx_id: string, event_time: number): StreamEvent => ({ type: 'click', tx_id, received_at: event_time + 5, event_time });

describe('toRow', () => {
  test("every column of the table, absent values null, the client's timestamp dropped", () => {
    const event = bid('t1', H10, { timestamp: '2026-11-21T10:00:00Z', creative_category: 'sports' });
    expect(toRow('bcns', event)).toEqual({
      type: 'bid', tx_id: 't1', app_uid: 'u-t1', campaign_item_id: 42, domain: 'news.example', creative_id: null,
      creative_category: 'sports', win_price: 120, event_time: H10, received_at: H10 + 5,
    });
    expect(toRow('clicks', click('t1', H10))).toEqual({ tx_id: 't1', event_time: H10, received_at: H10 + 5 });
  });
});

describe('eventGroups', () => {
  const events = [
    bid('t1', H10 + 1_000),
    impression('t1', H10 + 2_000),
    click('t1', H10 + 3_600_000 - 1), // last ms of hour 10
    bid('t2', MIDNIGHT - 1), // 2026-11-21 hour 23
    impression('t2', MIDNIGHT), // 2026-11-22 hour 00
    bid('t3', H10 + 5_000),
  ];

  test('each event in bcns and in its type table, by the UTC hour of its event time', () => {
    const groups = eventGroups(events);
    expect(groups.map((g) => `${g.table} ${g.partition.dt} ${g.partition.hour} ${g.rows.length}`)).toEqual([
      'bcns 2026-11-21 10 4',
      'bcns 2026-11-21 23 1',
      'bcns 2026-11-22 00 1',
      'bids 2026-11-21 10 2',
      'bids 2026-11-21 23 1',
      'impressions 2026-11-21 10 1',
      'impressions 2026-11-22 00 1',
      'clicks 2026-11-21 10 1',
    ]);
    const bcns10 = groups[0];
    expect(bcns10.rows.map((r) => `${r.type}:${r.tx_id}`)).toEqual(['bid:t1', 'impression:t1', 'click:t1', 'bid:t3']);
    expect(bcns10.records).toEqual([events[0], events[1], events[2], events[5]]);
    const bids10 = groups.find((g) => g.table === 'bids' && g.partition.hour === '10')!;
    expect(bids10.rows[0]).not.toHaveProperty('type');
    expect(bids10.rows[0]).toMatchObject({ tx_id: 't1', campaign_item_id: 42, win_price: 120, creative_id: null });
  });

  test('every event lands in bcns exactly once and in exactly one type table', () => {
    const groups = eventGroups(events);
    const count = (pred: (t: string) => boolean) => groups.filter((g) => pred(g.table)).reduce((n, g) => n + g.rows.length, 0);
    expect(count((t) => t === 'bcns')).toBe(events.length);
    expect(count((t) => t !== 'bcns')).toBe(events.length);
  });

  test('deterministic: the same batch gives the same groups, whatever came before', () => {
    const a = eventGroups(events);
    eventGroups([...events].reverse());
    expect(eventGroups(events)).toEqual(a);
    expect(JSON.stringify(eventGroups(events))).toBe(JSON.stringify(a));
  });

  test('an empty batch writes nothing', () => {
    expect(eventGroups([])).toEqual([]);
  });
});

describe('fileIdFor', () => {
  const shard = 'shardId-000000000001';
  const first = '49590338271490256608559692538361571095921575989136588898';
  const last = '49590338271490256608559692538361571095921575989136599999';

  test('the shard and the first and last sequence numbers of the batch', () => {
    expect(fileIdFor(shard, first, last)).toBe(`${shard}-${first}-${last}`);
    expect(fileIdFor(shard, first, last)).toBe(fileIdFor(shard, first, last));
    expect(fileIdFor(shard, first, last)).not.toBe(fileIdFor('shardId-000000000002', first, last));
    expect(fileIdFor(shard, first, last)).not.toBe(fileIdFor(shard, `${first.slice(0, -1)}9`, last));
    // A shorter or longer read from the same first record (a bisected half, a read after a crash) names other files.
    expect(fileIdFor(shard, first, last)).not.toBe(fileIdFor(shard, first, `${last.slice(0, -1)}8`));
    // Never a name of the older lake writer's, which named files after the first record only.
    expect(fileIdFor(shard, first, first)).not.toBe(`${shard}-${first}`);
  });

  test('refuses what is not a shard id or a sequence number', () => {
    expect(() => fileIdFor('shard/1', first, last)).toThrow(/shard id/);
    expect(() => fileIdFor(shard, '12a', last)).toThrow(/sequence number/);
    expect(() => fileIdFor(shard, '', last)).toThrow(/sequence number/);
    expect(() => fileIdFor(shard, first, 'x')).toThrow(/sequence number/);
  });
});

describe('dedupeEvents', () => {
  test('keeps the first of each (type, tx_id)', () => {
    const first = bid('t1', H10);
    const resent = bid('t1', H10, { received_at: H10 + 999 });
    const events = [first, impression('t1', H10), resent, bid('t2', H10), impression('t1', H10 + 1)];
    expect(dedupeEvents(events)).toEqual([first, events[1], events[3]]);
  });
});

describe('auctions', () => {
  test('one row per bid with its outcome; impressions and clicks without a bid give none', () => {
    const events = [
      bid('won-clicked', H10), impression('won-clicked', H10 + 50, 80), click('won-clicked', H10 + 2_000),
      bid('lost', H10 + 10, { win_price: undefined }),
      click('click-before-impression', H10 + 900), // arrives before its impression and its bid
      impression('orphan', H10), bid('click-before-impression', H10 + 20), bid('won-clicked', H10 + 30), // a resent bid
      impression('click-before-impression', H10 + 70, 90),
    ];
    const rows = auctionRows(events);
    expect(rows).toEqual([
      { tx_id: 'won-clicked', app_uid: 'u-won-clicked', campaign_item_id: 42, domain: 'news.example', creative_id: null, creative_category: null,
        bid_price: 120, won: true, clearing_price: 80, clicked: true, event_time: H10, impression_time: H10 + 50, click_time: H10 + 2_000 },
      { tx_id: 'lost', app_uid: 'u-lost', campaign_item_id: 42, domain: 'news.example', creative_id: null, creative_category: null,
        bid_price: null, won: false, clearing_price: null, clicked: false, event_time: H10 + 10, impression_time: null, click_time: null },
      { tx_id: 'click-before-impression', app_uid: 'u-click-before-impression', campaign_item_id: 42, domain: 'news.example', creative_id: null, creative_category: null,
        bid_price: 120, won: true, clearing_price: 90, clicked: true, event_time: H10 + 20, impression_time: H10 + 70, click_time: H10 + 900 },
    ]);
  });

  test("partitioned by the bid's event time", () => {
    const groups = auctionGroups([bid('a', MIDNIGHT - 1), impression('a', MIDNIGHT + 1), bid('b', MIDNIGHT)]);
    expect(groups.map((g) => [g.partition.dt, g.partition.hour, g.rows.map((r) => r.tx_id)])).toEqual([
      ['2026-11-21', '23', ['a']],
      ['2026-11-22', '00', ['b']],
    ]);
    expect(groups[0].rows[0]).toMatchObject({ won: true, impression_time: MIDNIGHT + 1 });
  });
});

describe('aggregates', () => {
  const record = { campaign_item_id: 42, period: Date.UTC(2026, 10, 21, 23, 59) / 1000, period_seconds: 60, bids: 3, impressions: 1, clicks: 1, late_events: 0, revision: 4, updated_at: H10 };

  test('an aggregates-stream record as a row, with the window start as a timestamp', () => {
    expect(aggregateRow(record)).toEqual({ ...record, period_start: record.period * 1000 });
  });

  test('partitioned by window start; the record kept as it came for the raw file', () => {
    const next = { ...record, period: MIDNIGHT / 1000, revision: 1 };
    const groups = aggregateGroups([record, next]);
    expect(groups.map((g) => `${g.table} ${g.partition.dt} ${g.partition.hour}`)).toEqual(['aggregates 2026-11-21 23', 'aggregates 2026-11-22 00']);
    expect(groups[1].records).toEqual([next]);
  });
});
