/**
 * The aggregator's pure core: given a shard's records in order and the join state of their
 * auctions, decide what each record changes. It joins impressions and clicks to their bid by
 * tx_id in any arrival order and counts each (tx_id, type) once. A record whose join state a
 * previous attempt already stored (its sequence number is not above the auction's fence) changes
 * no state, but counts again what it counted then (pairsCompletedBy): states are stored before
 * rows, and the rows' fences drop what a previous attempt already added.
 * An event that arrived more than the allowed lateness after its event time is counted in its
 * window's `late_events` instead of its type's counter; whether it is late depends only on its
 * own received_at and event_time, so every retry decides the same.
 */
import { EVENT_TYPES, type StreamEvent } from '../../schemas/events';
import { zeroTotals, type Counter, type Totals } from '../../schemas/aggregates';
import { windowStart } from './window';
import type { RedriveMark } from './redrive';

export type { Counter, Totals } from '../../schemas/aggregates';

export interface TxState {
  tx_id: string;
  /** Fence: the padded sequence number of the last record applied to this auction. */
  seq: string;
  campaign_item_id?: number;
  bid_time?: number;
  impression_time?: number;
  click_time?: number;
  /** Set when the bid (impression, click) arrived later than the allowed lateness. */
  bid_late?: boolean;
  impression_late?: boolean;
  click_late?: boolean;
  /** The padded sequence number of the record that set bid (impression, click) time: the effect markers a redrive reads. */
  bid_seq?: string;
  impression_seq?: string;
  click_seq?: string;
  /** On a field a redrive set: the shard's journal position then; batches up to it did not see the field. */
  bid_redrive_at?: string;
  impression_redrive_at?: string;
  click_redrive_at?: string;
  /** Per dead letter a replay wrote this state for: what the change owes the rows, and the run that made it. */
  redrives?: Record<string, RedriveMark>;
  expires_at?: number;
}

export interface FencedEvent {
  /** Padded sequence number (see sequence.ts). */
  seq: string;
  event: StreamEvent;
}

/** One count a record adds to one (campaign, window) row. */
export interface Contribution {
  seq: string;
  counter: Counter;
}

export interface RowDelta {
  campaign_item_id: number;
  period: number;
  /** In sequence order; a row applies those above its own fence. */
  contributions: Contribution[];
}

export interface BatchPlan {
  rows: RowDelta[];
  /** Join states that changed, to store after the rows (duplicates change nothing). */
  states: TxState[];
  stats: { applied: number; duplicates: number; replayed: number; pending: number; late: number };
}

/**
 * The state as records from `first` on saw it when they were stored: without the fields a redrive
 * added later (stamped with a position at or after `first`).
 */
export function seenBy(state: TxState, first: string): TxState {
  const seen: TxState = { ...state };
  for (const kind of EVENT_TYPES) {
    const at = state[`${kind}_redrive_at`];
    if (at === undefined || at < first) continue;
    for (const field of [`${kind}_time`, `${kind}_seq`, `${kind}_late`, `${kind}_redrive_at`] as const) delete seen[field];
    if (kind === 'bid') delete seen.campaign_item_id;
  }
  return seen;
}

export function rowKey(campaign: number, period: number): string {
  return `${campaign}#${period}`;
}

export interface PlanSettings {
  periodSeconds: number;
  allowedLatenessMs: number;
  /** Expiry (epoch seconds) to stamp on the join states this batch writes. */
  expiresAt: number;
}

export function isLate(event: StreamEvent, allowedLatenessMs: number): boolean {
  return event.received_at - event.event_time > allowedLatenessMs;
}

export function planBatch(records: readonly FencedEvent[], stored: ReadonlyMap<string, TxState>, settings: PlanSettings): BatchPlan {
  const { periodSeconds, allowedLatenessMs, expiresAt } = settings;
  const states = new Map<string, TxState>();
  const rows = new Map<string, RowDelta>();
  const stats = { applied: 0, duplicates: 0, replayed: 0, pending: 0, late: 0 };

  const count = (state: TxState, type: Exclude<Counter, 'late_events'>, late: boolean | undefined, eventTime: number, seq: string): void => {
    const counter: Counter = late ? 'late_events' : type;
    if (late) stats.late++;
    const campaign = state.campaign_item_id!;
    const period = windowStart(eventTime, periodSeconds);
    const key = rowKey(campaign, period);
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { campaign_item_id: campaign, period, contributions: [] }));
    row.contributions.push({ seq, counter });
  };

  for (const { seq, event } of records) {
    const previous = states.get(event.tx_id) ?? stored.get(event.tx_id);
    if (previous && previous.seq >= seq) {
      // Stored by an earlier attempt, before its rows: count again what the record counted then,
      // without what a redrive added to the state since (the redrive counted that).
      stats.replayed++;
      for (const c of pairsCompletedBy(seenBy(previous, seq), seq, periodSeconds)) count(previous, c.counter, c.late, c.time, seq);
      continue;
    }
    const state: TxState = previous ? { ...previous, seq, expires_at: expiresAt } : { tx_id: event.tx_id, seq, expires_at: expiresAt };
    const hasBid = state.campaign_item_id !== undefined;
    const late = isLate(event, allowedLatenessMs);

    if (event.type === 'bid') {
      if (hasBid) { stats.duplicates++; continue; }
      state.campaign_item_id = event.campaign_item_id;
      state.bid_time = event.event_time;
      state.bid_seq = seq;
      if (late) state.bid_late = true;
      count(state, 'bids', late, event.event_time, seq);
      if (state.impression_time !== undefined) count(state, 'impressions', state.impression_late, state.impression_time, seq);
      if (state.click_time !== undefined) count(state, 'clicks', state.click_late, state.click_time, seq);
    } else {
      const [timeField, lateField, seqField] =
        event.type === 'impression' ? (['impression_time', 'impression_late', 'impression_seq'] as const) : (['click_time', 'click_late', 'click_seq'] as const);
      if (state[timeField] !== undefined) { stats.duplicates++; continue; }
      state[timeField] = event.event_time;
      state[seqField] = seq;
      if (late) state[lateField] = true;
      if (hasBid) count(state, event.type === 'impression' ? 'impressions' : 'clicks', late, event.event_time, seq);
      else stats.pending++;
    }
    states.set(event.tx_id, state);
    stats.applied++;
  }
  return { rows: [...rows.values()], states: [...states.values()], stats };
}

/** Sums a row's contributions above a fence; `last` is the fence to store with them. */
export function totalsAbove(row: RowDelta, fence: string | undefined): { totals: Totals; last: string | undefined } {
  const totals = zeroTotals();
  let last: string | undefined;
  for (const c of row.contributions) {
    if (fence !== undefined && c.seq <= fence) continue;
    totals[c.counter]++;
    last = c.seq;
  }
  return { totals, last };
}

const COUNTER_OF = { bid: 'bids', impression: 'impressions', click: 'clicks' } as const;

export interface PairCount {
  counter: Exclude<Counter, 'late_events'>;
  late: boolean;
  time: number;
  campaign_item_id: number;
  period: number;
}

/**
 * The counts a join state owes to the record with sequence number `seq`: each event joined to
 * its bid is counted by whichever of the two records came later (the bid counts itself). A pure
 * function of the state, so an attempt that stored the state and a later attempt or a redrive
 * derive the same counts.
 */
export function pairsCompletedBy(state: TxState, seq: string, periodSeconds: number): PairCount[] {
  if (state.campaign_item_id === undefined || state.bid_time === undefined) return [];
  const bidSeq = state.bid_seq ?? '';
  const out: PairCount[] = [];
  for (const kind of EVENT_TYPES) {
    const time = state[`${kind}_time`];
    if (time === undefined) continue;
    const own = state[`${kind}_seq`] ?? '';
    if ((own > bidSeq ? own : bidSeq) !== seq) continue;
    out.push({ counter: COUNTER_OF[kind], late: state[`${kind}_late`] === true, time, campaign_item_id: state.campaign_item_id, period: windowStart(time, periodSeconds) });
  }
  return out;
}
