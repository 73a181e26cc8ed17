/**
 * Unit tests for lambdas/aggregator/plan.ts: joining, deduplicating and windowing a shard's
 * records, and the fences that make a retried or replayed batch count nothing twice.
 */
import { isLate, planBatch as planPipeline, rowKey as rowKeyOf, totalsAbove as totalsAboveOf, type AggState, type BatchPlan, type PlanSettings, type RowDelta } from '../../lambdas/aggregator/plan';
import adtech from '../../pipelines/adtech';
import { aggregationOf } from '../../schemas/pipeline';
import { groupKey, type Totals } from '../../schemas/aggregates';
import { fence } from '../../lambdas/commons/sequence';
import { windowStart } from '../../lambdas/aggregator/window';
import { parseIngestRequest } from '../../lambdas/ingest/parse';
import { generateWorkload, random, type Counts, type Workload } from '../../pipelines/adtech/workload';
import type { StreamEvent } from '../../pipelines/adtech/events';

const PERIOD = 60;
/** An ad-tech record on its shard. */
type FencedEvent = { seq: string; event: StreamEvent };
/** The generic aggregator as ad-tech's pipeline runs it: campaigns rows, states per auction. */
const CAMPAIGNS = aggregationOf(adtech, 'campaigns');
const planBatch = (records: readonly FencedEvent[], stored: ReadonlyMap<string, AggState>, settings: PlanSettings) => planPipeline(adtech, records, stored, settings);
const rowKey = (campaign: number, period: number) => rowKeyOf(groupKey('campaigns', [campaign]), period);
const totalsAbove = (row: RowDelta, fence: string | undefined) => totalsAboveOf(CAMPAIGNS, row, fence) as { totals: Totals; last: string | undefined };
/** The state key of an auction. */
const tx = (txId: string) => `campaigns#${JSON.stringify([txId])}`;
const EXPIRES = 2_000_000_000;
const T0 = Date.parse('2024-05-01T12:00:00Z'); // a window boundary
/** Lateness large enough that no event in these tests is late unless a test says so. */
const SETTINGS: PlanSettings = { periodSeconds: PERIOD, allowedLatenessMs: 365 * 24 * 3600_000, expiresAt: EXPIRES };

/** Increasing 56-digit sequence numbers, fenced, like a Kinesis shard's. */
function sequencer(start = 49590338271490256608559692538361571095921575989136588898n) {
  let n = start;
  return (step = 1n) => {
    n += step;
    return fence(n.toString());
  };
}

const bid = (tx_id: string, campaign: number, time: number): StreamEvent => ({
  type: 'bid', tx_id, app_uid: 'u', campaign_item_id: campaign, received_at: time, event_time: time,
});
const impression = (tx_id: string, time: number): StreamEvent => ({ type: 'impression', tx_id, win_price: 10, received_at: time, event_time: time });
const click = (tx_id: string, time: number): StreamEvent => ({ type: 'click', tx_id, received_at: time, event_time: time });

/** Sum of every row's contributions, per campaign and window ("campaign#period"). */
function rowTotals(rows: readonly RowDelta[], into = new Map<string, Totals>()): Map<string, Totals> {
  for (const row of rows) {
    const key = rowKeyOf(row.group, row.period);
    const totals = into.get(key) ?? counts(0, 0, 0);
    for (const c of row.contributions) totals[c.measure as keyof Totals] += c.value;
    into.set(key, totals);
  }
  return into;
}

const win = (time: number) => windowStart(time, PERIOD);
const counts = (bids: number, impressions: number, clicks: number, late_events = 0): Totals => ({ bids, impressions, clicks, late_events });

function withStates(stored: Map<string, AggState>, plan: BatchPlan): Map<string, AggState> {
  const next = new Map(stored);
  for (const s of plan.states) next.set(s.state_key, s);
  return next;
}

describe('planBatch', () => {
  it('counts a bid in the window of its event time', () => {
    const seq = sequencer();
    const plan = planBatch([{ seq: seq(), event: bid('a', 7, T0 + 61_000) }], new Map(), SETTINGS);
    expect(rowTotals(plan.rows)).toEqual(new Map([[rowKey(7, win(T0 + 61_000)), counts(1, 0, 0)]]));
    expect(win(T0 + 61_000)).toBe(T0 / 1000 + 60);
    expect(plan.states).toEqual([expect.objectContaining({ state_key: tx('a'), slots: { bid: expect.objectContaining({ group: [7], time: T0 + 61_000 }) }, expires_at: EXPIRES })]);
  });

  it('joins impression and click to their bid, each in its own event-time window', () => {
    const seq = sequencer();
    const plan = planBatch(
      [
        { seq: seq(), event: bid('a', 7, T0 + 59_000) },
        { seq: seq(), event: impression('a', T0 + 59_500) },
        { seq: seq(), event: click('a', T0 + 62_000) },
      ],
      new Map(),
      SETTINGS,
    );
    expect(rowTotals(plan.rows)).toEqual(
      new Map([
        [rowKey(7, T0 / 1000), counts(1, 1, 0)],
        [rowKey(7, T0 / 1000 + 60), counts(0, 0, 1)],
      ]),
    );
    expect(plan.stats).toMatchObject({ applied: 3, duplicates: 0, replayed: 0 });
  });

  it('holds an impression and a click that arrive before their bid, and counts them when it arrives', () => {
    const seq = sequencer();
    const first = planBatch(
      [
        { seq: seq(), event: click('a', T0 + 130_000) },
        { seq: seq(), event: impression('a', T0 + 5_000) },
      ],
      new Map(),
      SETTINGS,
    );
    expect(first.rows).toEqual([]);
    expect(first.stats.pending).toBe(2);
    expect(first.states).toEqual([expect.objectContaining({ state_key: tx('a'), slots: { impression: expect.objectContaining({ time: T0 + 5_000 }), click: expect.objectContaining({ time: T0 + 130_000 }) } })]);
    expect(first.states[0].slots.bid).toBeUndefined();

    // The bid comes in a later batch, in yet another window.
    const second = planBatch([{ seq: seq(), event: bid('a', 9, T0 + 70_000) }], withStates(new Map(), first), SETTINGS);
    expect(rowTotals(second.rows)).toEqual(
      new Map([
        [rowKey(9, T0 / 1000 + 60), counts(1, 0, 0)],
        [rowKey(9, T0 / 1000), counts(0, 1, 0)],
        [rowKey(9, T0 / 1000 + 120), counts(0, 0, 1)],
      ]),
    );
  });

  it('also joins out of order within one batch', () => {
    const seq = sequencer();
    const plan = planBatch(
      [
        { seq: seq(), event: impression('a', T0 + 1000) },
        { seq: seq(), event: bid('a', 3, T0) },
      ],
      new Map(),
      SETTINGS,
    );
    expect(rowTotals(plan.rows)).toEqual(new Map([[rowKey(3, T0 / 1000), counts(1, 1, 0)]]));
  });

  it('counts a duplicate (same tx_id and type) once within a batch', () => {
    const seq = sequencer();
    const plan = planBatch(
      [
        { seq: seq(), event: bid('a', 1, T0) },
        { seq: seq(), event: bid('a', 1, T0) },
        { seq: seq(), event: impression('a', T0) },
        { seq: seq(), event: impression('a', T0) },
        { seq: seq(), event: click('a', T0) },
        { seq: seq(), event: click('a', T0) },
      ],
      new Map(),
      SETTINGS,
    );
    expect(rowTotals(plan.rows)).toEqual(new Map([[rowKey(1, T0 / 1000), counts(1, 1, 1)]]));
    expect(plan.stats).toMatchObject({ applied: 3, duplicates: 3 });
  });

  it('counts a duplicate once across batches', () => {
    const seq = sequencer();
    const b1 = planBatch([{ seq: seq(), event: bid('a', 1, T0) }, { seq: seq(), event: impression('a', T0) }], new Map(), SETTINGS);
    const b2 = planBatch(
      [
        { seq: seq(), event: bid('a', 1, T0) },
        { seq: seq(), event: impression('a', T0 + 1) },
        { seq: seq(), event: click('a', T0) },
      ],
      withStates(new Map(), b1),
      SETTINGS,
    );
    expect(rowTotals(b2.rows)).toEqual(new Map([[rowKey(1, T0 / 1000), counts(0, 0, 1)]]));
    expect(b2.stats).toMatchObject({ applied: 1, duplicates: 2 });
  });

  it('counts a resent pending impression once when the bid arrives', () => {
    const seq = sequencer();
    const b1 = planBatch([{ seq: seq(), event: impression('a', T0) }, { seq: seq(), event: impression('a', T0) }], new Map(), SETTINGS);
    const b2 = planBatch([{ seq: seq(), event: impression('a', T0) }, { seq: seq(), event: bid('a', 1, T0) }], withStates(new Map(), b1), SETTINGS);
    expect(rowTotals(b2.rows)).toEqual(new Map([[rowKey(1, T0 / 1000), counts(1, 1, 0)]]));
  });

  it('keeps the first bid of an auction: a second bid with another campaign counts nothing', () => {
    const seq = sequencer();
    const plan = planBatch([{ seq: seq(), event: bid('a', 1, T0) }, { seq: seq(), event: bid('a', 2, T0) }, { seq: seq(), event: click('a', T0) }], new Map(), SETTINGS);
    expect(rowTotals(plan.rows)).toEqual(new Map([[rowKey(1, T0 / 1000), counts(1, 0, 1)]]));
  });

  it('changes no state for records at or below the stored state fence, but counts again what they counted', () => {
    const seq = sequencer();
    const records: FencedEvent[] = [
      { seq: seq(), event: bid('a', 1, T0) },
      { seq: seq(), event: impression('a', T0) },
      { seq: seq(), event: bid('b', 2, T0) },
    ];
    const b1 = planBatch(records, new Map(), SETTINGS);
    const stored = withStates(new Map(), b1);
    expect(stored.get(tx('a'))!.seq).toBe(records[1].seq);
    const again = planBatch(records, stored, SETTINGS);
    expect(again.rows).toEqual(b1.rows); // the same contributions: the rows' fences drop what was added
    expect(again.states).toEqual([]);
    expect(again.stats).toMatchObject({ applied: 0, replayed: 3 });
  });

  it('counts again, for a retried record, only what it counted then: not a bid a redrive added to its state since', () => {
    const seq = sequencer();
    const abandonedBid = seq(); // in a dead letter
    const imp = { seq: seq(), event: impression('a', T0) };
    const stored = withStates(new Map(), planBatch([imp], new Map(), SETTINGS)); // pending: no bid yet; its rows were not reached
    const redriveAt = seq(); // the shard's journaled position when the redrive wrote the bid (and counted the impression)
    const redriven: AggState = { ...stored.get(tx('a'))!, slots: { ...stored.get(tx('a'))!.slots, bid: { group: [7], time: T0, seq: abandonedBid, redrive_at: redriveAt } } };
    expect(planBatch([imp], new Map([[tx('a'), redriven]]), SETTINGS).rows).toEqual([]);

    // A record stored after the redrive saw the bid, and counts the impression it joined.
    const later = { seq: seq(), event: impression('b', T0) };
    const seenLater: AggState = { state_key: tx('b'), seq: later.seq, slots: { bid: { group: [7], time: T0, seq: abandonedBid, redrive_at: redriveAt }, impression: { time: T0, seq: later.seq } } };
    expect(rowTotals(planBatch([later], new Map([[tx('b'), seenLater]]), SETTINGS).rows)).toEqual(new Map([[rowKey(7, win(T0)), counts(0, 1, 0)]]));
  });

  it('applies a record above the fence even when earlier ones of the same auction are replayed', () => {
    const seq = sequencer();
    const r1 = { seq: seq(), event: bid('a', 1, T0) };
    const b1 = planBatch([r1], new Map(), SETTINGS);
    const r2 = { seq: seq(), event: impression('a', T0) };
    const b2 = planBatch([r1, r2], withStates(new Map(), b1), SETTINGS);
    expect(b2.rows.flatMap((r) => r.contributions)).toEqual([
      { seq: r1.seq, measure: 'bids', value: 1 },
      { seq: r2.seq, measure: 'impressions', value: 1 },
    ]);
    expect(b2.states).toEqual([expect.objectContaining({ state_key: tx('a'), seq: r2.seq, slots: expect.objectContaining({ impression: expect.objectContaining({ seq: r2.seq }) }) })]);
    expect(b2.stats).toMatchObject({ applied: 1, replayed: 1 });
  });

  it('compares fences numerically, across sequence numbers of different lengths', () => {
    // A shorter sequence number is smaller; unpadded string comparison would call it larger.
    const small = fence('9');
    const big = fence('10');
    const b1 = planBatch([{ seq: small, event: impression('a', T0) }], new Map(), SETTINGS);
    const b2 = planBatch([{ seq: big, event: bid('a', 1, T0) }], withStates(new Map(), b1), SETTINGS);
    expect(rowTotals(b2.rows)).toEqual(new Map([[rowKey(1, T0 / 1000), counts(1, 1, 0)]]));
  });

  it('counts at most one impression and one click per auction', () => {
    const seq = sequencer();
    const records: FencedEvent[] = [{ seq: seq(), event: bid('a', 1, T0) }];
    for (let i = 0; i < 5; i++) {
      records.push({ seq: seq(), event: impression('a', T0 + i * 60_000) });
      records.push({ seq: seq(), event: click('a', T0 + i * 60_000) });
    }
    const plan = planBatch(records, new Map(), SETTINGS);
    const totals = [...rowTotals(plan.rows).values()].reduce((a, b) => counts(a.bids + b.bids, a.impressions + b.impressions, a.clicks + b.clicks));
    expect(totals).toEqual(counts(1, 1, 1));
    // The first of each is the one counted, in its window.
    expect(rowTotals(plan.rows)).toEqual(new Map([[rowKey(1, T0 / 1000), counts(1, 1, 1)]]));
  });

  it('tags each contribution with the sequence number of the record that caused it, in order', () => {
    const seq = sequencer();
    const s = [seq(), seq(), seq()];
    const plan = planBatch(
      [
        { seq: s[0], event: impression('a', T0) },
        { seq: s[1], event: bid('b', 1, T0) },
        { seq: s[2], event: bid('a', 1, T0) },
      ],
      new Map(),
      SETTINGS,
    );
    expect(plan.rows).toEqual([
      { aggregation: 'campaigns', group: groupKey('campaigns', [1]), groupValues: [1], period: T0 / 1000, contributions: [{ seq: s[1], measure: 'bids', value: 1 }, { seq: s[2], measure: 'bids', value: 1 }, { seq: s[2], measure: 'impressions', value: 1 }] },
    ]);
  });
});

describe('totalsAbove', () => {
  const seq = sequencer();
  const s = [seq(10n), seq(10n), seq(10n), seq(10n), seq(10n)];
  const row: RowDelta = {
    aggregation: 'campaigns',
    group: groupKey('campaigns', [1]),
    groupValues: [1],
    period: 0,
    contributions: [
      { seq: s[0], measure: 'bids', value: 1 },
      { seq: s[1], measure: 'bids', value: 1 },
      { seq: s[1], measure: 'impressions', value: 1 },
      { seq: s[2], measure: 'clicks', value: 1 },
      { seq: s[3], measure: 'bids', value: 1 },
      { seq: s[4], measure: 'impressions', value: 1 },
    ],
  };

  it('sums everything without a fence, and returns the last sequence number', () => {
    expect(totalsAbove(row, undefined)).toEqual({ totals: counts(3, 2, 1), last: s[4] });
  });

  it('sums only the contributions above a fence in the middle', () => {
    expect(totalsAbove(row, s[1])).toEqual({ totals: counts(1, 1, 1), last: s[4] });
    expect(totalsAbove(row, s[2])).toEqual({ totals: counts(1, 1, 0), last: s[4] });
  });

  it('skips every contribution of a record at the fence (a record may contribute several counts)', () => {
    const { totals } = totalsAbove(row, s[1]);
    expect(totals.bids + totals.impressions + totals.clicks).toBe(3);
  });

  it('a fence between two sequence numbers splits there', () => {
    const between = fence((BigInt(s[2]) + 5n).toString());
    expect(totalsAbove(row, between)).toEqual({ totals: counts(1, 1, 0), last: s[4] });
    const justBelow = fence((BigInt(s[2]) - 1n).toString());
    expect(totalsAbove(row, justBelow)).toEqual({ totals: counts(1, 1, 1), last: s[4] });
  });

  it('returns nothing at or above the last contribution', () => {
    expect(totalsAbove(row, s[4])).toEqual({ totals: counts(0, 0, 0), last: undefined });
    expect(totalsAbove(row, seq())).toEqual({ totals: counts(0, 0, 0), last: undefined });
  });
});

describe('late events', () => {
  const LATE: PlanSettings = { periodSeconds: PERIOD, allowedLatenessMs: 3600_000, expiresAt: EXPIRES };
  const at = (event: StreamEvent, receivedAt: number): StreamEvent => ({ ...event, received_at: receivedAt });

  it('isLate compares received_at with event_time', () => {
    expect(isLate(at(click('a', T0), T0 + 3600_000), 3600_000)).toBe(false);
    expect(isLate(at(click('a', T0), T0 + 3600_001), 3600_000)).toBe(true);
  });

  it('counts an event past the allowed lateness as late in its own window, not in its type', () => {
    const seq = sequencer();
    const plan = planBatch(
      [
        { seq: seq(), event: at(bid('a', 1, T0), T0 + 10) },
        { seq: seq(), event: at(impression('a', T0 + 1000), T0 + 2 * 3600_000) },
        { seq: seq(), event: at(bid('b', 1, T0 + 60_000), T0 + 3 * 3600_000) },
      ],
      new Map(),
      LATE,
    );
    expect(rowTotals(plan.rows)).toEqual(
      new Map([
        [rowKey(1, T0 / 1000), counts(1, 0, 0, 1)],
        [rowKey(1, T0 / 1000 + 60), counts(0, 0, 0, 1)],
      ]),
    );
    expect(plan.stats.late).toBe(2);
  });

  it('remembers that a pending impression was late and counts it late when its bid arrives', () => {
    const seq = sequencer();
    const b1 = planBatch([{ seq: seq(), event: at(impression('a', T0), T0 + 2 * 3600_000) }], new Map(), LATE);
    expect(b1.rows).toEqual([]);
    const b2 = planBatch([{ seq: seq(), event: at(bid('a', 1, T0), T0 + 1000) }], withStates(new Map(), b1), LATE);
    expect(rowTotals(b2.rows)).toEqual(new Map([[rowKey(1, T0 / 1000), counts(1, 0, 0, 1)]]));
  });

  it('a late duplicate of an on-time event counts nothing', () => {
    const seq = sequencer();
    const plan = planBatch(
      [
        { seq: seq(), event: at(bid('a', 1, T0), T0) },
        { seq: seq(), event: at(bid('a', 1, T0), T0 + 5 * 3600_000) },
      ],
      new Map(),
      LATE,
    );
    expect(rowTotals(plan.rows)).toEqual(new Map([[rowKey(1, T0 / 1000), counts(1, 0, 0, 0)]]));
  });
});

/* ---------------------------------------------------------------------------------------------
 * Property-style: random workloads, random batches, replays; the rows must equal the truth.
 * ------------------------------------------------------------------------------------------- */

const NOW = T0 + 3 * 3600_000 + 12_345;

/** The workload's events as the ingestion API would put them on one shard, with sequence numbers. */
function toRecords(workload: Workload, seed: number): FencedEvent[] {
  const rnd = random(seed);
  let n = 49590338271490256608559692538361571095921575989136588898n;
  return workload.events.map(({ type, body }) => {
    const parsed = parseIngestRequest(type, { body: JSON.stringify(body), isBase64Encoded: false, contentType: 'application/json' }, NOW, {
      maxClockSkewMs: 300_000,
      maxEventAgeMs: 7 * 24 * 3600_000,
    });
    if (!parsed.ok) throw new Error(`workload event rejected: ${JSON.stringify(parsed)}`);
    // Gaps of varied size, so sequence numbers also change length now and then.
    n += BigInt(1 + Math.floor(rnd() * 1e12)) * 10n ** BigInt(Math.floor(rnd() * 3) * 10);
    return { seq: fence(n.toString()), event: parsed.events[0] as StreamEvent };
  });
}

const counterOf = (type: StreamEvent['type']) => (type === 'bid' ? 'bids' : type === 'impression' ? 'impressions' : 'clicks');

/**
 * The expected rows, computed independently: the first of each distinct (tx_id, type) in its own
 * window under its bid's campaign, as late_events if it arrived past the allowed lateness.
 */
function expectedRows(records: readonly FencedEvent[], allowedLatenessMs: number): Map<string, Totals> {
  const campaignOf = new Map<string, number>();
  for (const { event } of records) if (event.type === 'bid' && !campaignOf.has(event.tx_id)) campaignOf.set(event.tx_id, event.campaign_item_id);
  const seen = new Set<string>();
  const out = new Map<string, Totals>();
  for (const { event } of records) {
    const id = `${event.tx_id}/${event.type}`;
    const campaign = campaignOf.get(event.tx_id);
    if (seen.has(id) || campaign === undefined) continue;
    seen.add(id);
    const key = rowKey(campaign, win(event.event_time));
    const c = out.get(key) ?? counts(0, 0, 0);
    c[event.received_at - event.event_time > allowedLatenessMs ? 'late_events' : counterOf(event.type)]++;
    out.set(key, c);
  }
  return out;
}

/** Per campaign, the workload's Counts (late events must be none for this to be the truth). */
function perCampaign(rows: Map<string, Totals>): Map<number, Counts & { late_events: number }> {
  const out = new Map<number, Counts & { late_events: number }>();
  for (const [key, c] of rows) {
    const campaign = (JSON.parse(key.split('#')[1]) as number[])[0];
    const t = out.get(campaign) ?? counts(0, 0, 0);
    out.set(campaign, counts(t.bids + c.bids, t.impressions + c.impressions, t.clicks + c.clicks, t.late_events + c.late_events));
  }
  return out;
}

function truthWithLate(workload: Workload): Map<number, Totals> {
  return new Map([...workload.truth].map(([k, c]) => [k, counts(c.bids, c.impressions, c.clicks, 0)]));
}

function randomBatches<T>(items: readonly T[], rnd: () => number, maxSize: number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; ) {
    const size = 1 + Math.floor(rnd() * maxSize);
    batches.push(items.slice(i, i + size));
    i += size;
  }
  return batches;
}

/**
 * A model of the aggregates table as store.ts uses it: each row keeps its counts and one fence
 * (one shard here); a row delta adds only what lies above the fence (totalsAbove).
 */
class ModelStore {
  readonly rows = new Map<string, { totals: Totals; fence?: string }>();
  states = new Map<string, AggState>();

  applyRows(plan: BatchPlan): void {
    for (const delta of plan.rows) {
      const key = rowKeyOf(delta.group, delta.period);
      const row = this.rows.get(key) ?? { totals: counts(0, 0, 0) };
      const { totals, last } = totalsAbove(delta, row.fence);
      if (last === undefined) continue;
      const sum = counts(0, 0, 0);
      for (const k of Object.keys(sum) as (keyof Totals)[]) sum[k] = row.totals[k] + totals[k];
      this.rows.set(key, { totals: sum, fence: last });
    }
  }

  putStates(plan: BatchPlan): void {
    this.states = withStates(this.states, plan);
  }

  counts(): Map<string, Totals> {
    return new Map([...this.rows].map(([k, { totals }]) => [k, totals]));
  }
}

describe('planBatch over random workloads', () => {
  const seeds = [1, 2, 3, 17, 4242, 99991];

  function workloadFor(seed: number) {
    const workload = generateWorkload({
      auctions: 600,
      campaigns: 4,
      impressionRate: 0.6,
      clickRate: 0.4,
      resendRate: 0.2,
      reorderRate: 0.4,
      timeSpreadMs: 10 * 60_000,
      now: NOW,
      seed,
    });
    return { workload, records: toRecords(workload, seed) };
  }

  it('the oracle agrees with the workload truth', () => {
    const { workload, records } = workloadFor(5);
    expect(perCampaign(expectedRows(records, SETTINGS.allowedLatenessMs))).toEqual(truthWithLate(workload));
    // The workload exercises what it must: resends, out-of-order auctions, several windows.
    expect(records.length).toBeGreaterThan(workload.totals.bids + workload.totals.impressions + workload.totals.clicks);
    expect(records.some(({ event }, i) => event.type !== 'bid' && records.slice(i).some((r) => r.event.type === 'bid' && r.event.tx_id === event.tx_id))).toBe(true);
    expect(expectedRows(records, SETTINGS.allowedLatenessMs).size).toBeGreaterThan(workload.truth.size * 5);
  });

  it.each(seeds)('seed %i: batch by batch, carrying the states, rows sum to the truth exactly', (seed) => {
    const { workload, records } = workloadFor(seed);
    const rnd = random(seed * 31 + 7);
    let stored = new Map<string, AggState>();
    const sums = new Map<string, Totals>();
    for (const batch of randomBatches(records, rnd, 80)) {
      const plan = planBatch(batch, stored, SETTINGS);
      rowTotals(plan.rows, sums);
      stored = withStates(stored, plan);
    }
    expect(perCampaign(sums)).toEqual(truthWithLate(workload));
    expect(sums).toEqual(expectedRows(records, SETTINGS.allowedLatenessMs));
  });

  it.each(seeds)('seed %i: batches processed twice (replayed with the states after them) add nothing twice', (seed) => {
    const { workload, records } = workloadFor(seed);
    const rnd = random(seed * 131 + 3);
    const store = new ModelStore();
    let replays = 0;
    for (const batch of randomBatches(records, rnd, 80)) {
      const plan = planBatch(batch, store.states, SETTINGS);
      store.putStates(plan);
      store.applyRows(plan);
      if (rnd() < 0.5) {
        replays++;
        const again = planBatch(batch, store.states, SETTINGS);
        expect(again.states).toEqual([]);
        store.applyRows(again);
      }
    }
    expect(replays).toBeGreaterThan(2);
    expect(perCampaign(store.counts())).toEqual(truthWithLate(workload));
    expect(store.counts()).toEqual(expectedRows(records, SETTINGS.allowedLatenessMs));
  });

  it.each(seeds)('seed %i: with row fences, a batch retried after its states but before its rows adds nothing twice', (seed) => {
    const { workload, records } = workloadFor(seed);
    const rnd = random(seed * 7 + 11);
    const store = new ModelStore();
    let crashes = 0;
    for (const batch of randomBatches(records, rnd, 80)) {
      const plan = planBatch(batch, store.states, SETTINGS);
      store.putStates(plan);
      if (rnd() < 0.4) {
        // Crash after the states, with some of the rows written: the retry plans from the new
        // states, either the whole batch or (bisected) its first half, then the rest.
        crashes++;
        store.applyRows({ ...plan, rows: plan.rows.filter(() => rnd() < 0.5) });
        const half = rnd() < 0.5 ? batch.length : Math.ceil(batch.length / 2);
        for (const part of [batch.slice(0, half), batch.slice(half)]) {
          if (part.length === 0) continue;
          const retry = planBatch(part, store.states, SETTINGS);
          store.putStates(retry);
          store.applyRows(retry);
        }
      } else {
        store.applyRows(plan);
      }
    }
    expect(crashes).toBeGreaterThan(2);
    expect(perCampaign(store.counts())).toEqual(truthWithLate(workload));
    expect(store.counts()).toEqual(expectedRows(records, SETTINGS.allowedLatenessMs));
  });

  it.each(seeds)('seed %i: with a short allowed lateness, late events move to late_events and nothing is lost', (seed) => {
    const { workload, records } = workloadFor(seed);
    const settings: PlanSettings = { ...SETTINGS, allowedLatenessMs: 5 * 60_000 }; // events are 0–10 min old
    const rnd = random(seed + 1000);
    let stored = new Map<string, AggState>();
    const sums = new Map<string, Totals>();
    for (const batch of randomBatches(records, rnd, 50)) {
      const plan = planBatch(batch, stored, settings);
      rowTotals(plan.rows, sums);
      stored = withStates(stored, plan);
    }
    const expected = expectedRows(records, settings.allowedLatenessMs);
    expect(sums).toEqual(expected);
    const all = [...sums.values()].reduce((a, b) => counts(a.bids + b.bids, a.impressions + b.impressions, a.clicks + b.clicks, a.late_events + b.late_events));
    expect(all.late_events).toBeGreaterThan(0);
    expect(all.bids + all.impressions + all.clicks + all.late_events).toBe(workload.totals.bids + workload.totals.impressions + workload.totals.clicks);
  });
});
