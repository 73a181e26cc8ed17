/**
 * Replaying a dead-lettered batch into the aggregates exactly: the pure part.
 *
 * The aggregator stores an attempt's join states before its rows, and the counts a record owes
 * the rows are a pure function of the stored state (plan.ts pairsCompletedBy). So for each
 * auction of an abandoned batch, either
 * - its state holds the batch's records (a field carries a sequence number inside the batch's
 *   range): the counts they owe are derived from that state as the batch's attempts stored it
 *   (without fields a later redrive added), and each reached its row if an attempt of the range
 *   finished (no evidence of an unfinished one, or evidence that a later one finished), or if an
 *   attempt's evidence shows the row's fence at or above it (journal.ts); the replay adds the others;
 * - or it does not: no attempt got past the states, so none reached a row; the replay puts the
 *   records into the state as it is now, joined with whatever came later, and owes the rows the
 *   counts of the new state that the stored one did not have.
 *
 * A replayed state is written before its counts, only if nobody changed the state since it was
 * read, and it carries them (its mark, under the letter's id): so an interrupted replay that is
 * run again, even after new events changed its auctions, adds the counts of the states it wrote
 * (under the marker of the run that wrote them, once per row) and plans only the others afresh.
 */
import { EVENT_TYPES } from '../../schemas/events';
import { COUNTERS, zeroTotals, type Counter, type Totals } from '../../schemas/aggregates';
import { pairsCompletedBy, planBatch, rowKey, seenBy, type FencedEvent, type PlanSettings, type TxState } from './plan';
import { covers, overlaps, type Evidence, type SeqRange } from './journal';

export interface RedriveRow {
  campaign_item_id: number;
  period: number;
  delta: Totals;
}

export interface RedriveState {
  state: TxState;
  /** The stored state's fence when it was read (undefined: there was none): the write's condition. */
  expectedSeq: string | undefined;
  /** The counts the change owes the rows, due once the state is written. */
  owed: RedriveRow[];
}

/** What a replay leaves on a state it wrote, under the letter's id (`TxState.redrives`). */
export interface RedriveMark {
  /** The run of the replay that wrote the state: its rows' marker. */
  run: string;
  owed: RedriveRow[];
}

export interface RedrivePlan {
  /** Counts owed by records whose states the batch's attempts stored: rows only. */
  rows: RedriveRow[];
  states: RedriveState[];
  stats: { auctions: number; alreadyStored: number; replayed: number };
}

/** Signed counts summed per (campaign, window) row. */
class RowSums {
  private readonly sums = new Map<string, RedriveRow>();

  add(campaign: number, period: number, counter: Counter, n: number): void {
    const key = rowKey(campaign, period);
    let row = this.sums.get(key);
    if (!row) this.sums.set(key, (row = { campaign_item_id: campaign, period, delta: zeroTotals() }));
    row.delta[counter] += n;
  }

  addRows(rows: readonly RedriveRow[]): void {
    for (const row of rows) for (const c of COUNTERS) this.add(row.campaign_item_id, row.period, c, row.delta[c]);
  }

  /** The rows whose sum is not zero. */
  rows(): RedriveRow[] {
    return [...this.sums.values()].filter((r) => COUNTERS.some((c) => r.delta[c] !== 0));
  }
}

/** The state to write for `s`, marked with what it owes under the letter's id. */
export function markedState(s: RedriveState, letter: string, run: string): TxState {
  const mark: RedriveMark = { run, owed: s.owed };
  return { ...s.state, redrives: { ...s.state.redrives, [letter]: mark } };
}

/** Counts owed by written states, summed per run that wrote them: each run's go to the rows under a marker of their own. */
export class OwedByRun {
  private readonly byRun = new Map<string, RowSums>();

  add(run: string, rows: readonly RedriveRow[]): void {
    let sums = this.byRun.get(run);
    if (!sums) this.byRun.set(run, (sums = new RowSums()));
    sums.addRows(rows);
  }

  /** Each run's rows, with `marker` suffixed by the run. */
  sets(marker: string): { marker: string; rows: RedriveRow[] }[] {
    return [...this.byRun].map(([run, sums]) => ({ marker: `${marker}_${run}`, rows: sums.rows() }));
  }
}

/** Splits a letter's records: the marks of the auctions whose state a replay of the letter already wrote, and the records of the others. */
export function writtenEarlier(records: readonly FencedEvent[], current: ReadonlyMap<string, TxState>, letter: string): { marks: RedriveMark[]; rest: FencedEvent[] } {
  const marks = new Map<string, RedriveMark>();
  for (const { event } of records) {
    const mark = current.get(event.tx_id)?.redrives?.[letter];
    if (mark) marks.set(event.tx_id, mark);
  }
  return { marks: [...marks.values()], rest: records.filter((r) => !marks.has(r.event.tx_id)) };
}

const seqsOf = (state: TxState) => EVENT_TYPES.map((kind) => state[`${kind}_seq`]).filter((s): s is string => s !== undefined);

/** Every count a state holds, by the record that owes it. */
function countsOf(state: TxState, periodSeconds: number) {
  return seqsOf(state).flatMap((seq) => pairsCompletedBy(state, seq, periodSeconds).map((pair) => ({ ...pair, seq })));
}

export function planRedrive(
  records: readonly FencedEvent[],
  range: SeqRange,
  current: ReadonlyMap<string, TxState>,
  evidence: readonly Evidence[],
  settings: PlanSettings,
  /**
   * The journaled position, when the states were read, of the shard taking an auction's events
   * (by tx_id): stamped on the fields the replay sets in its state.
   */
  redriveAt: (txId: string) => string = () => range.last,
): RedrivePlan {
  const relevant = evidence.filter((e) => overlaps(e, range));
  // Every attempt that stored states either left evidence when it did not finish, or finished;
  // an attempt that finished after an unfinished one says so (journal.ts).
  const complete = relevant.length === 0 || relevant.some((e) => e.complete && covers(e, range));
  /** The highest fence any attempt of these records left on a row. */
  const fenceOf = (key: string): string | undefined => {
    let best: string | undefined;
    for (const e of relevant) {
      const f = e.fences[key];
      if (f && (best === undefined || f > best)) best = f;
    }
    return best;
  };
  const byAuction = new Map<string, FencedEvent[]>();
  for (const record of records) {
    const list = byAuction.get(record.event.tx_id);
    if (list) list.push(record);
    else byAuction.set(record.event.tx_id, [record]);
  }

  const rows = new RowSums();
  const counter = (pair: { counter: Exclude<Counter, 'late_events'>; late: boolean }): Counter => (pair.late ? 'late_events' : pair.counter);
  const states: RedriveState[] = [];
  const stats = { auctions: byAuction.size, alreadyStored: 0, replayed: 0 };

  for (const [txId, auctionRecords] of byAuction) {
    const stored = current.get(txId);
    const inRange = (seq: string) => seq >= range.first && seq <= range.last;
    if (stored && seqsOf(stored).some(inRange)) {
      stats.alreadyStored++;
      if (complete) continue;
      for (const pair of countsOf(seenBy(stored, range.first), settings.periodSeconds)) {
        if (!inRange(pair.seq)) continue;
        const fence = fenceOf(rowKey(pair.campaign_item_id, pair.period));
        if (fence === undefined || fence < pair.seq) rows.add(pair.campaign_item_id, pair.period, counter(pair), 1);
      }
      continue;
    }
    const before = stored ?? { tx_id: txId, seq: '' };
    const replay = planBatch(auctionRecords, new Map([[txId, { ...before, seq: '' }]]), settings);
    const after = replay.states[0];
    stats.replayed += replay.stats.applied;
    if (!after) continue; // every record a duplicate of what the state holds
    const owed = new RowSums();
    for (const pair of countsOf(after, settings.periodSeconds)) owed.add(pair.campaign_item_id, pair.period, counter(pair), 1);
    for (const pair of countsOf(before, settings.periodSeconds)) owed.add(pair.campaign_item_id, pair.period, counter(pair), -1);
    const lastSeq = auctionRecords[auctionRecords.length - 1].seq;
    const state: TxState = { ...after, seq: stored && stored.seq > lastSeq ? stored.seq : lastSeq };
    for (const kind of EVENT_TYPES) if (before[`${kind}_time`] === undefined && state[`${kind}_time`] !== undefined) state[`${kind}_redrive_at`] = redriveAt(txId);
    states.push({ state, expectedSeq: stored?.seq, owed: owed.rows() });
  }
  return { rows: rows.rows(), states, stats };
}
