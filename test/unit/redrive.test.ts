/**
 * Unit tests for lambdas/aggregator/redrive.ts: replaying an abandoned batch against the state it
 * left behind. A model shard runs the aggregator's pure plan batch by batch, abandons one batch
 * part way through its writes (some rows, or all rows and some join states), goes on with later
 * batches (resends, joins to the missing bids), and then replays the abandoned batch from the
 * evidence: the rows must equal those of a run where nothing failed.
 */
import { planBatch, rowKey, totalsAbove, type FencedEvent, type PlanSettings, type TxState } from '../../lambdas/aggregator/plan';
import { planRedrive } from '../../lambdas/aggregator/redrive';
import { fence } from '../../lambdas/commons/sequence';
import { COUNTERS, zeroTotals, type Totals } from '../../schemas/aggregates';
import { random } from '../../local/workload';
import type { StreamEvent } from '../../schemas/events';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const SETTINGS: PlanSettings = { periodSeconds: 60, allowedLatenessMs: 30 * 60_000, expiresAt: 2_000_000_000 };

interface ModelRow { totals: Totals; fence?: string }

/** One shard's rows and join states, written the way the aggregator writes them. */
class ModelShard {
  rows = new Map<string, ModelRow>();
  states = new Map<string, TxState>();

  /** Processes a batch; `rowsReached`/`statesReached` cut its writes short as a failure would. */
  process(batch: FencedEvent[], cut?: { rowsReached: (key: string) => boolean; statesReached: (txId: string) => boolean }): void {
    const plan = planBatch(batch, this.states, SETTINGS);
    const reached = new Set(plan.rows.map((r) => rowKey(r.campaign_item_id, r.period)).filter((key) => !cut || cut.rowsReached(key)));
    const rowsAll = reached.size === plan.rows.length;
    for (const delta of plan.rows) {
      const key = rowKey(delta.campaign_item_id, delta.period);
      if (!reached.has(key)) continue;
      const row = this.rows.get(key) ?? { totals: zeroTotals() };
      const { totals, last } = totalsAbove(delta, row.fence);
      if (last === undefined) continue;
      for (const c of COUNTERS) row.totals[c] += totals[c];
      row.fence = last;
      this.rows.set(key, row);
    }
    if (!rowsAll) return; // a failed row write stops the invocation before the states
    for (const state of plan.states) if (!cut || cut.statesReached(state.tx_id)) this.states.set(state.tx_id, state);
  }

  fences(keys: readonly string[]): Record<string, string | null> {
    return Object.fromEntries(keys.map((k) => [k, this.rows.get(k)?.fence ?? null]));
  }

  totals(): Record<string, Totals> {
    return Object.fromEntries([...this.rows].map(([k, r]) => [k, r.totals]).filter(([, t]) => COUNTERS.some((c) => (t as Totals)[c] !== 0)));
  }
}

function workload(seed: number): FencedEvent[] {
  const rnd = random(seed);
  const events: StreamEvent[] = [];
  for (let i = 0; i < 25; i++) {
    const tx_id = `t${i}`;
    const time = T0 + Math.floor(rnd() * 5) * 60_000 + Math.floor(rnd() * 60_000);
    const late = rnd() < 0.1 ? 3600_000 : 0;
    const own: StreamEvent[] = [{ type: 'bid', tx_id, app_uid: 'u', campaign_item_id: 1 + Math.floor(rnd() * 3), event_time: time, received_at: time + late }];
    if (rnd() < 0.7) own.push({ type: 'impression', tx_id, win_price: 5, event_time: time + 1000, received_at: time + 1000 });
    if (rnd() < 0.5) own.push({ type: 'click', tx_id, event_time: time + 2000, received_at: time + 2000 });
    for (const e of [...own]) if (rnd() < 0.25) own.push({ ...e }); // client resends
    events.push(...own);
  }
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [events[i], events[j]] = [events[j], events[i]];
  }
  let n = 49590338271490256608559692538361571095921575989136588898n;
  return events.map((event) => ({ seq: fence((n += 1n + BigInt(Math.floor(rnd() * 1000))).toString()), event }));
}

function batches(records: FencedEvent[], rnd: () => number): FencedEvent[][] {
  const out: FencedEvent[][] = [];
  for (let i = 0; i < records.length; ) {
    const size = 1 + Math.floor(rnd() * 15);
    out.push(records.slice(i, i + size));
    i += size;
  }
  return out;
}

/** Applies a redrive plan to the model shard, as replay.ts applies it to the tables. */
function redrive(shard: ModelShard, batch: FencedEvent[], fences: Record<string, string | null> | undefined, position: string): void {
  const plan = planRedrive(batch, { first: batch[0].seq, last: batch[batch.length - 1].seq }, shard.states, fences, SETTINGS, position);
  for (const row of plan.rows) {
    const key = rowKey(row.campaign_item_id, row.period);
    const stored = shard.rows.get(key) ?? { totals: zeroTotals() };
    for (const c of COUNTERS) stored.totals[c] += row.delta[c];
    shard.rows.set(key, stored);
  }
  for (const { state, expectedSeq } of plan.states) {
    expect(shard.states.get(state.tx_id)?.seq).toBe(expectedSeq);
    shard.states.set(state.tx_id, state);
  }
}

describe('planRedrive', () => {
  const cuts = {
    'no write reached the tables': () => ({ rowsReached: () => false, statesReached: () => false }),
    'some rows were written': (rnd: () => number) => ({ rowsReached: () => rnd() < 0.5, statesReached: () => true }),
    'every row and some join states were written': (rnd: () => number) => ({ rowsReached: () => true, statesReached: () => rnd() < 0.5 }),
    'everything was written (the invocation failed after)': () => ({ rowsReached: () => true, statesReached: () => true }),
  };

  it.each(Object.keys(cuts))('replays abandoned batches exactly when %s', (cutName) => {
    for (let seed = 1; seed <= 150; seed++) {
      const records = workload(seed);
      const rnd = random(seed * 7919);
      const split = batches(records, rnd);
      const expected = new ModelShard();
      for (const b of split) expected.process(b);

      // One to three batches abandoned; the shard goes on after each.
      const abandoned = new Map<number, Record<string, string | null>>();
      const chosen = new Set(Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => Math.floor(rnd() * split.length)));
      const shard = new ModelShard();
      split.forEach((b, i) => {
        if (!chosen.has(i)) return shard.process(b);
        const keys = planBatch(b, shard.states, SETTINGS).rows.map((r) => rowKey(r.campaign_item_id, r.period));
        shard.process(b, cuts[cutName as keyof typeof cuts](rnd));
        abandoned.set(i, shard.fences(keys)); // what the next invocation captures before writing
      });
      // Letters are replayed in any order, after the shard has moved on.
      const order = [...abandoned.keys()].sort(() => rnd() - 0.5);
      for (const i of order) redrive(shard, split[i], abandoned.get(i), records[records.length - 1].seq);
      expect({ seed, rows: shard.totals() }).toEqual({ seed, rows: expected.totals() });
    }
  });

  it('takes back a resend counted while the batch held its first copy in the rows', () => {
    const seqs = ['1', '2', '3'].map(fence);
    const bidEvent: StreamEvent = { type: 'bid', tx_id: 'x', app_uid: 'u', campaign_item_id: 9, event_time: T0, received_at: T0 };
    const imp: StreamEvent = { type: 'impression', tx_id: 'x', win_price: 5, event_time: T0, received_at: T0 };
    const shard = new ModelShard();
    shard.process([{ seq: seqs[0], event: bidEvent }]);
    const abandoned = [{ seq: seqs[1], event: imp }];
    shard.process(abandoned, { rowsReached: () => true, statesReached: () => false });
    const fences = shard.fences([rowKey(9, T0 / 1000)]);
    shard.process([{ seq: seqs[2], event: imp }]); // the client's resend, counted again
    expect(shard.totals()[rowKey(9, T0 / 1000)].impressions).toBe(2);

    const plan = planRedrive(abandoned, { first: seqs[1], last: seqs[1] }, shard.states, fences, SETTINGS);
    expect(plan.rows).toEqual([{ campaign_item_id: 9, period: T0 / 1000, delta: { ...zeroTotals(), impressions: -1 } }]);
    expect(plan.states).toEqual([]);
  });
});
