/**
 * Unit tests for lambdas/aggregator/plan.ts over declared pipelines other than ad-tech: telemetry
 * (no join: one state per reading's identity, sums, minima and maxima), a filter, a join whose
 * joined stream carries measured values, and pipelines run side by side.
 */
import { z } from 'zod';
import {
  extremesOf, planBatch, rowKey, totalsAbove, type AggState, type BatchPlan, type FencedEvent, type PlanSettings, type RowDelta, type Totals,
} from '../../lambdas/aggregator/plan';
import { fence } from '../../lambdas/commons/sequence';
import telemetry from '../../pipelines/telemetry';
import adtech from '../../pipelines/adtech';
import { aggregationOf, combinePipelines, count, definePipeline, max, min, sum, type Pipeline } from '../../schemas/pipeline';
import { groupKey } from '../../schemas/aggregates';
import { generateTraffic } from '../../local/traffic';
import { groundTruth, streamRecords } from '../../local/ground-truth';
import { random } from '../../pipelines/adtech/workload';
import { keyRecords } from '../../lambdas/aggregator/plan';
import { planRedrive } from '../../lambdas/aggregator/redrive';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const SETTINGS: PlanSettings = { allowedLatenessMs: 365 * 24 * 3600_000, expiresAt: 2_000_000_000 };
const DEVICES = aggregationOf(telemetry, 'devices');

function sequencer(start = 49590338271490256608559692538361571095921575989136588898n) {
  let n = start;
  return () => fence((n += 1n).toString());
}

const reading = (device_id: string, event_id: string, metric: string, value: number, time = T0, received = time) =>
  ({ type: 'reading', device_id, event_id, metric, value, received_at: received, event_time: time });

function withStates(stored: ReadonlyMap<string, AggState>, plan: BatchPlan): Map<string, AggState> {
  const next = new Map(stored);
  for (const s of plan.states) next.set(s.state_key, s);
  return next;
}

/** A model of the aggregates table: per row its measures (counts and sums added above its fence, extremes kept) and one fence. */
class ModelRows {
  readonly rows = new Map<string, { totals: Totals; fence?: string }>();

  constructor(private readonly pipeline: Pipeline) {}

  apply(deltas: readonly RowDelta[]): void {
    for (const delta of deltas) {
      const aggregation = aggregationOf(this.pipeline, delta.aggregation);
      const key = rowKey(delta.group, delta.period);
      const row = this.rows.get(key) ?? { totals: {} };
      const { totals, last } = totalsAbove(aggregation, delta, row.fence);
      if (last !== undefined) {
        for (const [m, v] of Object.entries(totals)) {
          const kind = aggregation.measures.find((x) => x.name === m)?.kind;
          if (kind !== 'min' && kind !== 'max') row.totals[m] = (row.totals[m] ?? 0) + v;
        }
        row.fence = last;
      }
      for (const [m, v] of Object.entries(extremesOf(aggregation, delta))) {
        const kind = aggregation.measures.find((x) => x.name === m)!.kind;
        const had = row.totals[m];
        row.totals[m] = had === undefined ? v : kind === 'min' ? Math.min(had, v) : Math.max(had, v);
      }
      this.rows.set(key, row);
    }
  }
}

describe('telemetry through the generic plan', () => {
  it('keeps one state per reading identity, and counts a resend (same device and event id) once', () => {
    const seq = sequencer();
    const plan = planBatch(
      telemetry,
      [
        { seq: seq(), event: reading('d1', 'e1', 'temp', 20) },
        { seq: seq(), event: reading('d1', 'e1', 'temp', 20) }, // a resend
        { seq: seq(), event: reading('d2', 'e1', 'temp', 10) }, // same event id, another device: another reading
      ],
      new Map(),
      SETTINGS,
    );
    expect(plan.states.map((s) => s.state_key)).toEqual(['devices#["d1","e1"]', 'devices#["d2","e1"]']);
    expect(plan.stats).toMatchObject({ applied: 2, duplicates: 1 });
    expect(plan.states[0].slots.reading).toEqual({ time: T0, seq: expect.any(String), values: { value: 20 }, group: ['d1', 'temp'] });

    // A resend in a later batch is a duplicate of the stored state.
    const again = planBatch(telemetry, [{ seq: seq(), event: reading('d1', 'e1', 'temp', 20) }], withStates(new Map(), plan), SETTINGS);
    expect(again.rows).toEqual([]);
    expect(again.states).toEqual([]);
    expect(again.stats.duplicates).toBe(1);
  });

  it('measures a row: count and sum added, minimum and maximum kept', () => {
    const seq = sequencer();
    const plan = planBatch(
      telemetry,
      [20, -5.5, 7, 30].map((v, i) => ({ seq: seq(), event: reading('d1', `e${i}`, 'temp', v, T0 + i * 1000) })),
      new Map(),
      SETTINGS,
    );
    expect(plan.rows).toHaveLength(1);
    const [row] = plan.rows;
    expect(row).toMatchObject({ aggregation: 'devices', group: 'devices#["d1","temp"]', groupValues: ['d1', 'temp'], period: T0 / 1000 });
    expect(totalsAbove(DEVICES, row, undefined).totals).toEqual({ readings: 4, total: 51.5, minimum: -5.5, maximum: 30, late_events: 0 });
    expect(extremesOf(DEVICES, row)).toEqual({ minimum: -5.5, maximum: 30 });
    // Above a fence: only the later readings' counts and sums; extremes are of every contribution.
    expect(totalsAbove(DEVICES, row, row.contributions[4].seq).totals).toEqual({ readings: 2, total: 37, minimum: 7, maximum: 30, late_events: 0 });
  });

  it('counts a late reading in late_events only', () => {
    const seq = sequencer();
    const late = { ...SETTINGS, allowedLatenessMs: 60_000 };
    const plan = planBatch(telemetry, [{ seq: seq(), event: reading('d1', 'e1', 'temp', 99, T0, T0 + 120_000) }, { seq: seq(), event: reading('d1', 'e2', 'temp', 1) }], new Map(), late);
    expect(totalsAbove(DEVICES, plan.rows[0], undefined).totals).toEqual({ readings: 1, total: 1, minimum: 1, maximum: 1, late_events: 1 });
    expect(plan.stats.late).toBe(1);
  });

  it('re-derives, from the stored states, exactly the contributions a batch made', () => {
    const seq = sequencer();
    const records: FencedEvent[] = [5, 6, 7].map((v, i) => ({ seq: seq(), event: reading('d1', `e${i}`, 'temp', v) }));
    const first = planBatch(telemetry, records, new Map(), SETTINGS);
    const replayed = planBatch(telemetry, records, withStates(new Map(), first), SETTINGS);
    expect(replayed.rows).toEqual(first.rows);
    expect(replayed.states).toEqual([]);
    expect(replayed.stats).toMatchObject({ applied: 0, replayed: 3 });
  });

  it('overrides the declared period when the settings name one', () => {
    const seq = sequencer();
    const plan = planBatch(telemetry, [{ seq: seq(), event: reading('d1', 'e1', 'temp', 1, T0 + 90_000) }], new Map(), { ...SETTINGS, periodSeconds: 300 });
    expect(plan.rows[0].period).toBe(T0 / 1000);
    const declared = planBatch(telemetry, [{ seq: seq(), event: reading('d1', 'e2', 'temp', 1, T0 + 90_000) }], new Map(), SETTINGS);
    expect(declared.rows[0].period).toBe(T0 / 1000 + 60);
  });

  it.each([1, 2, 3])('seed %i: batches retried after their states and part of their rows leave rows equal to the truth', (seed) => {
    const rnd = random(seed);
    const traffic = generateTraffic(telemetry, { events: 600, groups: 5, seed, now: T0 + 3_600_000, resendRate: 0.2, timeSpreadMs: 10 * 60_000, shuffle: true });
    const seq = sequencer();
    const received = streamRecords(telemetry, traffic.events.map((e) => ({ ...e, receivedAt: e.body.timestamp as number })));
    const records: FencedEvent[] = received.map((event) => ({ seq: seq(), event }));
    const model = new ModelRows(telemetry);
    let states = new Map<string, AggState>();
    for (let i = 0; i < records.length; ) {
      const batch = records.slice(i, (i += 1 + Math.floor(rnd() * 40)));
      const plan = planBatch(telemetry, batch, states, SETTINGS);
      states = withStates(states, plan);
      if (rnd() < 0.4) {
        // Crash after the states and some rows: the retry plans from the stored states.
        model.apply(plan.rows.filter(() => rnd() < 0.5));
        model.apply(planBatch(telemetry, batch, states, SETTINGS).rows);
      } else model.apply(plan.rows);
    }
    const truth = groundTruth(telemetry, received).get('devices')!;
    const expected = Object.fromEntries(truth.map((r) => [rowKey(groupKey('devices', [r.device_id as string, r.metric as string]), r.period), { readings: r.readings, total: r.total, minimum: r.minimum, maximum: r.maximum, late_events: 0 }]));
    expect(Object.fromEntries([...model.rows].map(([k, r]) => [k, r.totals]))).toEqual(expected);
  });
});

describe('declared aggregations beyond the shipped ones', () => {
  const shop = definePipeline({
    name: 'shop',
    streams: {
      order: { schema: z.object({ order_id: z.string(), customer: z.string(), channel: z.string() }), identity: ['order_id'], partitionKey: 'order_id' },
      payment: { schema: z.object({ order_id: z.string(), amount: z.number() }), identity: ['order_id'], partitionKey: 'order_id' },
    },
    aggregations: {
      sales: {
        stream: 'order',
        join: { key: 'order_id', streams: ['payment'] },
        groupBy: ['customer'],
        where: { channel: 'web' },
        measures: { orders: count(), paid: count('payment'), revenue: sum('amount', 'payment'), smallest: min('amount', 'payment'), largest: max('amount', 'payment') },
      },
    },
  });
  const SALES = aggregationOf(shop, 'sales');
  const order = (order_id: string, customer: string, channel = 'web') => ({ type: 'order', order_id, customer, channel, received_at: T0, event_time: T0 });
  const payment = (order_id: string, amount: number) => ({ type: 'payment', order_id, amount, received_at: T0, event_time: T0 });

  it('joins a payment that arrives before its order, counting its amount in the order group once the order arrives', () => {
    const seq = sequencer();
    const first = planBatch(shop, [{ seq: seq(), event: payment('o1', 12.5) }], new Map(), SETTINGS);
    expect(first.rows).toEqual([]);
    expect(first.stats.pending).toBe(1);
    const second = planBatch(shop, [{ seq: seq(), event: order('o1', 'ann') }, { seq: seq(), event: payment('o2', 3) }, { seq: seq(), event: order('o2', 'ann') }], withStates(new Map(), first), SETTINGS);
    expect(second.rows).toHaveLength(1);
    expect(totalsAbove(SALES, second.rows[0], undefined).totals).toEqual({ orders: 2, paid: 2, revenue: 15.5, smallest: 3, largest: 12.5, late_events: 0 });
  });

  it('a root the filter leaves out joins nothing and counts nothing, but still dedupes', () => {
    const seq = sequencer();
    const plan = planBatch(shop, [{ seq: seq(), event: order('o1', 'bob', 'shop') }, { seq: seq(), event: payment('o1', 9) }, { seq: seq(), event: order('o1', 'bob', 'web') }], new Map(), SETTINGS);
    expect(plan.rows).toEqual([]);
    expect(plan.stats).toMatchObject({ applied: 2, duplicates: 1 });
    expect(plan.states[0].slots.order.group).toBeUndefined();
  });

  it('feeds each event only the aggregations that read its stream, when pipelines run side by side', () => {
    const seq = sequencer();
    const both = combinePipelines([adtech, telemetry]);
    const plan = planBatch(
      both,
      [
        { seq: seq(), event: { type: "bid", tx_id: "t1", app_uid: "u", campaign_item_id: 4, received_at: T0, event_time: T0 } as FencedEvent["event"] },
        { seq: seq(), event: reading('d1', 'e1', 'temp', 2) },
      ],
      new Map(),
      SETTINGS,
    );
    expect(plan.rows.map((r) => [r.group, r.contributions.map((c) => c.measure)])).toEqual([
      ['campaigns#[4]', ['bids']],
      ['devices#["d1","temp"]', ['readings', 'total', 'minimum', 'maximum']],
    ]);
    expect(plan.states.map((s) => s.state_key)).toEqual(['campaigns#["t1"]', 'devices#["d1","e1"]']);
  });
});

describe('planRedrive over telemetry', () => {
  const seq = sequencer();
  const s = [seq(), seq(), seq()];
  const batch: FencedEvent[] = [
    { seq: s[0], event: reading('d9', 'e1', 'temp', 4) },
    { seq: s[1], event: reading('d9', 'e2', 'temp', -2) },
    { seq: s[2], event: reading('d9', 'e1', 'temp', 4) }, // a resend
  ];
  const range = { first: s[0], last: s[2] };
  const group = 'devices#["d9","temp"]';

  it('owes every measure of readings whose states no attempt stored, minima and maxima included', () => {
    const plan = planRedrive(keyRecords(telemetry, batch), range, new Map(), [], SETTINGS);
    expect(plan.rows).toEqual([]);
    expect(plan.states).toHaveLength(2);
    expect(plan.states.flatMap((x) => x.owed)).toEqual([
      { aggregation: 'devices', group, groupValues: ['d9', 'temp'], period: T0 / 1000, delta: { readings: 1, total: 4, minimum: 4, maximum: 4, late_events: 0 } },
      { aggregation: 'devices', group, groupValues: ['d9', 'temp'], period: T0 / 1000, delta: { readings: 1, total: -2, minimum: -2, maximum: -2, late_events: 0 } },
    ]);
    expect(plan.states[0].state.slots.reading.redrive_at).toBe(s[2]);
  });

  it('for readings an attempt stored: owes the counts and sums its rows did not reach, and takes the extremes again whatever they reached', () => {
    const stored = withStates(new Map(), planBatch(telemetry, batch, new Map(), SETTINGS));
    const unfinished = { shard_id: 's', entry: 'e', ...range, captured_at: 0, expires_at: 0 };
    const none = planRedrive(keyRecords(telemetry, batch), range, stored, [{ ...unfinished, fences: { [rowKey(group, T0 / 1000)]: null } }], SETTINGS);
    expect(none.rows.map((r) => r.delta)).toEqual([{ readings: 2, total: 2, minimum: -2, maximum: 4, late_events: 0 }]);
    const reached = planRedrive(keyRecords(telemetry, batch), range, stored, [{ ...unfinished, fences: { [rowKey(group, T0 / 1000)]: s[2] } }], SETTINGS);
    expect(reached.rows.map((r) => r.delta)).toEqual([{ readings: 0, total: 0, minimum: -2, maximum: 4, late_events: 0 }]);
    expect(none.states).toEqual([]);
  });
});
