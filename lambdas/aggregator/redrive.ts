/**
 * Replaying a dead-lettered batch into the aggregates exactly: the pure part.
 *
 * The aggregator stores an attempt's states before its rows, and what a record owes the rows is
 * a pure function of the stored state (plan.ts completedBy). So for each state (an aggregation's
 * join key, or an event's identity) of an abandoned batch, either
 * - it holds the batch's records (a slot carries a sequence number inside the batch's range): what
 *   they owe is derived from that state as the batch's attempts stored it (without slots a later
 *   redrive added), and each count or sum reached its row if an attempt of the range
 *   finished (no evidence of an unfinished one, or evidence that a later one finished), or if an
 *   attempt's evidence shows the row's fence at or above it (journal.ts); the replay adds the others;
 * - or it does not: no attempt got past the states, so none reached a row; the replay puts the
 *   records into the state as it is now, joined with whatever came later, and owes the rows the
 *   counts of the new state that the stored one did not have.
 * Minima and maxima are never taken away: the replay owes every one its records hold, and a row
 * takes them whatever an attempt reached (they are idempotent).
 *
 * A replayed state is written before its counts, only if nobody changed the state since it was
 * read, and it carries them (its mark, under the letter's id): so an interrupted replay that is
 * run again, even after new events changed its states, adds the counts of the states it wrote
 * (under the marker of the run that wrote them, once per row) and plans only the others afresh.
 */
import type { AggregationSpec, FieldValue } from '../../schemas/pipeline';
import { groupKey } from '../../schemas/aggregates';
import { partitionKeyOf } from '../../schemas/stream-record';
import {
  accumulate, completedBy, contributionsOf, isIdempotent, measureKinds, periodOf, planKeyed, rowKey, seenBy, zeroTotalsOf,
  type AggState, type Completed, type KeyedRecord, type PlanSettings, type RowRef, type Totals,
} from './plan';
import { covers, overlaps, type Evidence, type SeqRange } from './journal';
import { aggregationNamed } from './aggregations';

/** What a replay owes a row: counts and sums signed, minima and maxima to take (never subtracted). */
export interface RedriveRow extends RowRef {
  delta: Totals;
}

export interface RedriveState {
  state: AggState;
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
  stats: { states: number; alreadyStored: number; replayed: number };
}

/** Signed counts and sums per row; minima and maxima kept as such. */
class RowSums {
  private readonly sums = new Map<string, { row: RedriveRow; aggregation: AggregationSpec }>();

  private rowOf(aggregation: AggregationSpec, groupValues: FieldValue[], period: number): RedriveRow {
    const group = groupKey(aggregation.name, groupValues);
    const key = rowKey(group, period);
    let entry = this.sums.get(key);
    if (!entry) this.sums.set(key, (entry = { row: { aggregation: aggregation.name, group, groupValues, period, delta: zeroTotalsOf(aggregation) }, aggregation }));
    return entry.row;
  }

  /**
   * Adds (`add`) or takes away (`subtract`) what a counted slot contributes, or only its minima and
   * maxima (`extremes`): a minimum or maximum is never taken away.
   */
  add(aggregation: AggregationSpec, c: Completed, how: 'add' | 'subtract' | 'extremes'): void {
    const kinds = measureKinds(aggregation);
    const row = this.rowOf(aggregation, c.groupValues, c.period);
    for (const x of contributionsOf(aggregation, c)) {
      if (isIdempotent(kinds.get(x.measure))) { if (how !== 'subtract') accumulate(kinds, row.delta, x.measure, x.value); }
      else if (how !== 'extremes') accumulate(kinds, row.delta, x.measure, how === 'add' ? x.value : -x.value);
    }
  }

  /** Adds rows owed earlier (the marks of states a replay wrote), of the active pipeline's aggregations. */
  addRows(rows: readonly RedriveRow[]): void {
    for (const r of rows) {
      const aggregation = aggregationNamed(r.aggregation);
      const kinds = measureKinds(aggregation);
      const row = this.rowOf(aggregation, r.groupValues, r.period);
      for (const [m, v] of Object.entries(r.delta)) accumulate(kinds, row.delta, m, v);
    }
  }

  /** The rows with anything to add: a sum that is not zero, or a minimum or maximum. */
  rows(): RedriveRow[] {
    return [...this.sums.values()]
      .filter(({ row, aggregation }) => {
        const kinds = measureKinds(aggregation);
        return Object.entries(row.delta).some(([m, v]) => isIdempotent(kinds.get(m)) || v !== 0);
      })
      .map(({ row }) => row);
  }
}

/** The state to write for `s`, marked with what it owes under the letter's id. */
export function markedState(s: RedriveState, letter: string, run: string): AggState {
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

/** Splits a letter's records: the marks of the states a replay of the letter already wrote, and the records of the others. */
export function writtenEarlier(records: readonly KeyedRecord[], current: ReadonlyMap<string, AggState>, letter: string): { marks: RedriveMark[]; rest: KeyedRecord[] } {
  const marks = new Map<string, RedriveMark>();
  for (const { key } of records) {
    const mark = current.get(key)?.redrives?.[letter];
    if (mark) marks.set(key, mark);
  }
  return { marks: [...marks.values()], rest: records.filter((r) => !marks.has(r.key)) };
}

const seqsOf = (state: AggState) => Object.values(state.slots).map((slot) => slot.seq);

export function planRedrive(
  records: readonly KeyedRecord[],
  range: SeqRange,
  current: ReadonlyMap<string, AggState>,
  evidence: readonly Evidence[],
  settings: PlanSettings,
  /**
   * The journaled position, when the states were read, of the shard taking the events of a
   * partition key: stamped on the slots the replay fills in its state.
   */
  redriveAt: (partitionKey: string) => string = () => range.last,
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
  const byState = new Map<string, KeyedRecord[]>();
  for (const record of records) {
    const list = byState.get(record.key);
    if (list) list.push(record);
    else byState.set(record.key, [record]);
  }

  const rows = new RowSums();
  const states: RedriveState[] = [];
  const stats = { states: byState.size, alreadyStored: 0, replayed: 0 };

  for (const [key, stateRecords] of byState) {
    const { aggregation } = stateRecords[0];
    const period = periodOf(aggregation, settings);
    const stored = current.get(key);
    const inRange = (seq: string) => seq >= range.first && seq <= range.last;
    if (stored && seqsOf(stored).some(inRange)) {
      stats.alreadyStored++;
      for (const c of completedBy(aggregation, seenBy(stored, range.first), undefined, period)) {
        if (!inRange(c.seq)) continue;
        // Minima and maxima are taken again whatever reached the row: an attempt may have moved
        // the fence and stopped before it took them.
        const fence = complete ? undefined : fenceOf(rowKey(groupKey(aggregation.name, c.groupValues), c.period));
        rows.add(aggregation, c, !complete && (fence === undefined || fence < c.seq) ? 'add' : 'extremes');
      }
      continue;
    }
    const before: AggState = stored ?? { state_key: key, seq: '', slots: {} };
    const replay = planKeyed(stateRecords, new Map([[key, { ...before, seq: '' }]]), settings);
    const after = replay.states[0];
    stats.replayed += replay.stats.applied;
    if (!after) continue; // every record a duplicate of what the state holds
    const owed = new RowSums();
    for (const c of completedBy(aggregation, after, undefined, period)) owed.add(aggregation, c, 'add');
    for (const c of completedBy(aggregation, before, undefined, period)) owed.add(aggregation, c, 'subtract');
    const lastSeq = stateRecords[stateRecords.length - 1].seq;
    const state: AggState = { ...after, seq: stored && stored.seq > lastSeq ? stored.seq : lastSeq, slots: { ...after.slots } };
    const at = redriveAt(partitionKeyOf(stateRecords[0].stream, stateRecords[0].event));
    for (const [stream, slot] of Object.entries(state.slots)) if (!before.slots[stream]) state.slots[stream] = { ...slot, redrive_at: at };
    states.push({ state, expectedSeq: stored?.seq, owed: owed.rows() });
  }
  return { rows: rows.rows(), states, stats };
}
