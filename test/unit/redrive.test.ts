/**
 * Unit tests for lambdas/aggregator/redrive.ts: replaying abandoned batches against the state
 * they left behind. A model shard runs the aggregator's pure plan batch by batch, writing states,
 * then rows, with the journal around them; failing batches are cut short part way through their
 * writes, split in halves and retried as the event source mapping does, some halves abandoned,
 * and the shard goes on with later batches (resends, joins to missing bids). Then every abandoned
 * batch is replayed from the evidence, in any order: the rows must equal those of a run where
 * nothing failed, also when replays are interrupted and run again after later batches changed
 * their auctions.
 */
import { keyRecords, planBatch as planPipeline, rowKey as rowKeyOf, totalsAbove as totalsAboveOf, type AggState, type PlanSettings, type RowDelta } from '../../lambdas/aggregator/plan';
import adtech from '../../pipelines/adtech';
import { aggregationOf } from '../../schemas/pipeline';
import { markedState, OwedByRun, planRedrive, writtenEarlier } from '../../lambdas/aggregator/redrive';
import { covers, overlaps, type Evidence, type SeqRange } from '../../lambdas/aggregator/journal';
import { fence } from '../../lambdas/commons/sequence';
import { COUNTERS, groupKey, zeroTotals, type Totals } from '../../schemas/aggregates';
import { random } from '../../pipelines/adtech/workload';
import type { StreamEvent } from '../../pipelines/adtech/events';

const T0 = Date.parse('2024-05-01T12:00:00Z');
/** The generic aggregator as ad-tech's pipeline runs it. */
type FencedEvent = { seq: string; event: StreamEvent };
const CAMPAIGNS = aggregationOf(adtech, 'campaigns');
const planBatch = (records: readonly FencedEvent[], stored: ReadonlyMap<string, AggState>, settings: PlanSettings) => planPipeline(adtech, records, stored, settings);
const rowKey = (campaign: number, period: number) => rowKeyOf(groupKey('campaigns', [campaign]), period);
const totalsAbove = (row: RowDelta, fence: string | undefined) => totalsAboveOf(CAMPAIGNS, row, fence) as { totals: Totals; last: string | undefined };
const SETTINGS: PlanSettings = { periodSeconds: 60, allowedLatenessMs: 30 * 60_000, expiresAt: 2_000_000_000 };

interface ModelRow { totals: Totals; fence?: string; markers?: Set<string> }
type Cut = { statesReached: (txId: string) => boolean; rowsReached: (key: string) => boolean; failsAfter?: boolean };

/** One shard's rows, join states and journal, written the way the aggregator writes them. */
class ModelShard {
  rows = new Map<string, ModelRow>();
  states = new Map<string, AggState>();
  journal?: { range: SeqRange; rows: string[]; done: boolean; recoverUntil?: string };
  evidence: Evidence[] = [];

  /** Processes a batch; a `cut` stops its writes short as a failure would. Resolves whether it completed. */
  process(batch: FencedEvent[], cut?: Cut): boolean {
    const plan = planBatch(batch, this.states, SETTINGS);
    if (plan.rows.length === 0 && plan.states.length === 0) return true;
    const range = { first: batch[0].seq, last: batch[batch.length - 1].seq };
    const previous = this.journal;
    let recoverUntil = previous?.recoverUntil;
    if (previous && !previous.done) {
      if (!covers(range, previous.range)) this.capture();
      if (recoverUntil === undefined || previous.range.last > recoverUntil) recoverUntil = previous.range.last;
    }
    const recovering = recoverUntil !== undefined && range.first <= recoverUntil;
    this.journal = { range, done: false, rows: plan.rows.map((r) => rowKeyOf(r.group, r.period)), recoverUntil };
    const written = plan.states.filter((state) => !cut || cut.statesReached(state.state_key));
    for (const state of written) this.states.set(state.state_key, state);
    if (written.length < plan.states.length) return false; // a failed state write stops the invocation before the rows
    let rowsAll = true;
    for (const delta of plan.rows) {
      const key = rowKeyOf(delta.group, delta.period);
      if (cut && !cut.rowsReached(key)) { rowsAll = false; continue; }
      const row = this.rows.get(key) ?? { totals: zeroTotals() };
      const { totals, last } = totalsAbove(delta, row.fence);
      if (last === undefined) continue;
      for (const c of COUNTERS) row.totals[c] += totals[c];
      row.fence = last;
      this.rows.set(key, row);
    }
    if (!rowsAll) return false;
    if (recovering) this.evidence.push({ shard_id: 's', entry: 'c', ...range, fences: {}, complete: true, captured_at: 0, expires_at: 0 });
    this.journal.done = true;
    return !cut?.failsAfter;
  }

  /** What the next invocation (or a redrive) records of an unfinished journal. */
  capture(): void {
    const j = this.journal!;
    const fences = Object.fromEntries(j.rows.map((k) => [k, this.rows.get(k)?.fence ?? null]));
    this.evidence.push({ shard_id: 's', entry: 'e', ...j.range, fences, captured_at: 0, expires_at: 0 });
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

/**
 * Replays a letter on the model shard as replay.ts does on the tables: marked states first, then
 * each set of owed counts once per row under its marker. `stopAfter` writes, it is interrupted.
 * Resolves whether it finished.
 */
function redrive(shard: ModelShard, batch: FencedEvent[], run = 'run', stopAfter = Infinity): boolean {
  const range = { first: batch[0].seq, last: batch[batch.length - 1].seq };
  const journaled = shard.journal?.range.last;
  const position = journaled !== undefined && journaled > range.last ? journaled : range.last;
  if (shard.journal && !shard.journal.done && overlaps(shard.journal.range, range)) shard.capture();
  const letter = batch[0].seq;
  let writes = 0;
  const earlier = writtenEarlier(keyRecords(adtech, batch), shard.states, letter);
  const plan = planRedrive(earlier.rest, range, shard.states, shard.evidence, SETTINGS, () => position);
  const owed = new OwedByRun();
  for (const mark of earlier.marks) owed.add(mark.run, mark.owed);
  for (const s of plan.states) {
    if (writes++ === stopAfter) return false;
    expect(shard.states.get(s.state.state_key)?.seq).toBe(s.expectedSeq);
    shard.states.set(s.state.state_key, markedState(s, letter, run));
    owed.add(run, s.owed);
  }
  const sets = [{ marker: letter, rows: plan.rows }, ...owed.sets(letter)];
  for (const { marker, rows } of sets) {
    for (const row of rows) {
      if (writes++ === stopAfter) return false;
      const key = rowKeyOf(row.group, row.period);
      const stored = shard.rows.get(key) ?? { totals: zeroTotals() };
      if (stored.markers?.has(marker)) continue;
      for (const c of COUNTERS) stored.totals[c] += row.delta[c];
      (stored.markers ??= new Set()).add(marker);
      shard.rows.set(key, stored);
    }
  }
  return true;
}

/**
 * Delivers a batch as the event source mapping does with bisect and one retry: a failed attempt
 * splits the batch in halves, each tried twice; a half that fails both times is abandoned (its
 * letter is returned). `fails` says whether an attempt fails, and `cut` how far its writes got.
 */
function deliver(shard: ModelShard, batch: FencedEvent[], fails: () => boolean, cut: () => Cut): FencedEvent[][] {
  const attempt = (part: FencedEvent[]) => shard.process(part, fails() ? cut() : undefined);
  if (shard.process(batch, cut())) return [];
  const halves = batch.length === 1 ? [batch] : [batch.slice(0, Math.ceil(batch.length / 2)), batch.slice(Math.ceil(batch.length / 2))];
  return halves.filter((part) => !attempt(part) && !attempt(part));
}

/** A seed's workload cut into batches, and the shard they leave when nothing fails; `rnd` goes on from the cut. */
function scenario(seed: number, salt: number) {
  const rnd = random(seed * salt);
  const split = batches(workload(seed), rnd);
  const expected = new ModelShard();
  for (const b of split) expected.process(b);
  return { rnd, split, expected };
}

describe('planRedrive', () => {
  const cuts = {
    'no write reached the tables': () => ({ statesReached: () => false, rowsReached: () => false }),
    'some join states were written': (rnd: () => number) => ({ statesReached: () => rnd() < 0.5, rowsReached: () => true }),
    'every join state and some rows were written': (rnd: () => number) => ({ statesReached: () => true, rowsReached: () => rnd() < 0.5 }),
    'everything was written (the invocation failed after)': () => ({ statesReached: () => true, rowsReached: () => true, failsAfter: true }),
  };
  const anyCut = (rnd: () => number) => Object.values(cuts)[Math.floor(rnd() * 4)](rnd);

  it.each([...Object.keys(cuts), 'attempts fail in any of these ways'])('replays abandoned batches exactly when %s', (cutName) => {
    for (let seed = 1; seed <= 200; seed++) {
      const { rnd, split, expected } = scenario(seed, 7919);

      // Some batches fail: split in halves and retried, some halves abandoned; the shard goes on.
      const failing = new Set(Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => Math.floor(rnd() * split.length)));
      const shard = new ModelShard();
      const letters = split.flatMap((b, i) =>
        failing.has(i) ? deliver(shard, b, () => rnd() < 0.7, () => (cuts[cutName as keyof typeof cuts] ?? anyCut)(rnd)) : (shard.process(b), []),
      );
      // Letters are replayed in any order, after the shard has moved on.
      for (const letter of letters.sort(() => rnd() - 0.5)) redrive(shard, letter);
      expect({ seed, rows: shard.totals() }).toEqual({ seed, rows: expected.totals() });
    }
  });

  it('counts each event once when replays run beside a batch being retried, are interrupted, and run again after later batches changed their auctions', () => {
    let interrupted = 0;
    let pendingRetries = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const { rnd, split, expected } = scenario(seed, 104_729);

      // Batches of the first half fail; their letters are replayed part way, the shard goes on, then they are replayed again.
      const half = Math.ceil(split.length / 2);
      const failing = new Set(Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => Math.floor(rnd() * half)));
      const shard = new ModelShard();
      const letters = split.slice(0, half).flatMap((b, i) => (failing.has(i) ? deliver(shard, b, () => rnd() < 0.7, () => anyCut(rnd)) : (shard.process(b), [])));
      // The next batch stored its states but not yet its rows when the replays run; it is retried after them.
      const retried = split[half];
      if (retried && !shard.process(retried, { statesReached: () => true, rowsReached: () => false })) pendingRetries++;
      for (const letter of letters) if (!redrive(shard, letter, 'first', Math.floor(rnd() * 3))) interrupted++;
      for (const b of split.slice(half)) shard.process(b);
      for (const letter of letters.sort(() => rnd() - 0.5)) expect(redrive(shard, letter, 'second')).toBe(true);
      expect({ seed, rows: shard.totals() }).toEqual({ seed, rows: expected.totals() });
    }
    expect(interrupted).toBeGreaterThan(30);
    expect(pendingRetries).toBeGreaterThan(100);
  });

  it('adds the counts of a batch whose states were stored but whose rows were not', () => {
    const seqs = ['1', '2'].map(fence);
    const shard = new ModelShard();
    const abandoned = [
      { seq: seqs[0], event: { type: 'bid', tx_id: 'x', app_uid: 'u', campaign_item_id: 9, event_time: T0, received_at: T0 } as StreamEvent },
      { seq: seqs[1], event: { type: 'impression', tx_id: 'x', win_price: 5, event_time: T0, received_at: T0 } as StreamEvent },
    ];
    shard.process(abandoned, { statesReached: () => true, rowsReached: () => false });
    shard.capture();
    const plan = planRedrive(keyRecords(adtech, abandoned), { first: seqs[0], last: seqs[1] }, shard.states, shard.evidence, SETTINGS);
    expect(plan.rows).toEqual([{ aggregation: 'campaigns', group: groupKey('campaigns', [9]), groupValues: [9], period: T0 / 1000, delta: { ...zeroTotals(), bids: 1, impressions: 1 } }]);
    expect(plan.states).toEqual([]);
    expect(plan.stats).toEqual({ states: 1, alreadyStored: 1, replayed: 0 });
  });

  it('does not count twice a join that an earlier replay completed for a batch replayed later', () => {
    const [s1, s2, s3, s4] = ['1', '2', '3', '4'].map(fence);
    const bidX: StreamEvent = { type: 'bid', tx_id: 'x', app_uid: 'u', campaign_item_id: 9, event_time: T0, received_at: T0 };
    const impX: StreamEvent = { type: 'impression', tx_id: 'x', win_price: 5, event_time: T0, received_at: T0 };
    const bidY: StreamEvent = { ...bidX, tx_id: 'y' };
    const bidZ: StreamEvent = { ...bidX, tx_id: 'z' };
    const shard = new ModelShard();
    const first = [{ seq: s1, event: bidX }];
    const second = [{ seq: s2, event: impX }, { seq: s3, event: bidY }];
    shard.process(first, { statesReached: () => false, rowsReached: () => false }); // abandoned before its states
    shard.process(second, { statesReached: () => true, rowsReached: () => false }); // abandoned after its states
    shard.process([{ seq: s4, event: bidZ }]); // keeps the evidence of the second
    redrive(shard, first); // joins x's bid to the impression the second batch stored
    redrive(shard, second); // owes only y's bid: x's join was counted by the first replay
    expect(shard.totals()).toEqual({ [rowKey(9, T0 / 1000)]: { ...zeroTotals(), bids: 3, impressions: 1 } });
  });
});
