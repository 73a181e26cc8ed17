/**
 * Replaying a dead-lettered batch into the aggregates exactly: the pure part.
 *
 * When a batch is abandoned, each auction in it is in one of two states. Either its join state was
 * stored (a field carries a sequence number inside the batch's range), and then every effect of
 * its records is already stored: rows are written before states. Or it was not, and then the rows
 * may hold part of the batch's counts (the evidence says which: a row holds every contribution up
 * to its fence at abandonment), and later records of the auction were joined against a state
 * without the batch. For those auctions the replay computes, per (row, counter), what the counts
 * should be once the batch's records are in the join state, minus what is already counted (before
 * the batch, by the batch itself, and by later records), and adds the difference, which may be
 * negative: a resend counted while the batch's own copy sat in the rows is taken back.
 */
import { zeroTotals, type Counter, type Totals } from '../../schemas/aggregates';
import { planBatch, rowKey, type FencedEvent, type PlanSettings, type TxState } from './plan';
import { windowStart } from './window';
import type { SeqRange } from './journal';

export interface RedriveRow {
  campaign_item_id: number;
  period: number;
  /** Signed: what to add to the row. */
  delta: Totals;
}

export interface RedriveState {
  state: TxState;
  /** The stored state's fence when it was read (undefined: there was none): the write's condition. */
  expectedSeq: string | undefined;
}

export interface RedrivePlan {
  rows: RedriveRow[];
  states: RedriveState[];
  stats: { auctions: number; alreadyStored: number; replayed: number };
}

type Kind = 'bid' | 'impression' | 'click';
const KINDS: readonly Kind[] = ['bid', 'impression', 'click'];
const COUNTER_OF: Record<Kind, Exclude<Counter, 'late_events'>> = { bid: 'bids', impression: 'impressions', click: 'clicks' };

const seqOf = (state: TxState, kind: Kind) => state[`${kind}_seq`];
const timeOf = (state: TxState, kind: Kind) => state[`${kind}_time`];

/**
 * The state as the abandoned batch's attempts saw it: the fields stored before its range, except
 * those a later redrive set (visible only to batches after the shard position it was made at).
 */
function visibleTo(state: TxState, range: SeqRange): TxState {
  const seen: TxState = { tx_id: state.tx_id, seq: '' };
  for (const kind of KINDS) {
    if (timeOf(state, kind) === undefined) continue;
    const redriveAt = state[`${kind}_redrive_at`];
    const seq = seqOf(state, kind);
    const visible = redriveAt !== undefined ? redriveAt < range.first : seq === undefined || seq < range.first;
    if (!visible) continue;
    seen[`${kind}_time`] = state[`${kind}_time`];
    seen[`${kind}_seq`] = seq;
    if (state[`${kind}_late`]) seen[`${kind}_late`] = true;
    if (kind === 'bid') seen.campaign_item_id = state.campaign_item_id;
  }
  return seen;
}

/** Where a joined state counts each of its events: (row key, counter) per kind present with its bid. */
function countsOf(state: TxState, periodSeconds: number): { key: string; campaign: number; period: number; counter: Counter }[] {
  if (state.campaign_item_id === undefined) return [];
  return KINDS.filter((kind) => timeOf(state, kind) !== undefined).map((kind) => {
    const period = windowStart(timeOf(state, kind)!, periodSeconds);
    return {
      key: rowKey(state.campaign_item_id!, period),
      campaign: state.campaign_item_id!,
      period,
      counter: state[`${kind}_late`] ? 'late_events' : COUNTER_OF[kind],
    };
  });
}

export function planRedrive(
  records: readonly FencedEvent[],
  range: SeqRange,
  current: ReadonlyMap<string, TxState>,
  /** Row fences at abandonment (journal.ts); undefined: no attempt reached any row. */
  fences: Readonly<Record<string, string | null>> | undefined,
  settings: PlanSettings,
  /** The shard's latest journaled position when the redrive runs: stamped on the fields it sets. */
  redriveAt: string = range.last,
): RedrivePlan {
  const byAuction = new Map<string, FencedEvent[]>();
  for (const record of records) {
    const list = byAuction.get(record.event.tx_id);
    if (list) list.push(record);
    else byAuction.set(record.event.tx_id, [record]);
  }
  const rows = new Map<string, RedriveRow>();
  const add = (key: string, campaign: number, period: number, counter: Counter, n: number) => {
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { campaign_item_id: campaign, period, delta: zeroTotals() }));
    row.delta[counter] += n;
  };
  const states: RedriveState[] = [];
  const stats = { auctions: byAuction.size, alreadyStored: 0, replayed: 0 };

  for (const [txId, auctionRecords] of byAuction) {
    const stored = current.get(txId);
    if (stored && KINDS.some((kind) => { const s = seqOf(stored, kind); return s !== undefined && s >= range.first && s <= range.last; })) {
      stats.alreadyStored++;
      continue;
    }
    const empty: TxState = { tx_id: txId, seq: '' };
    const now = stored ?? empty;

    // What the abandoned batch's attempts counted, and how much of it reached the rows.
    const original = planBatch(auctionRecords, new Map([[txId, visibleTo(now, range)]]), settings);
    for (const row of original.rows) {
      const key = rowKey(row.campaign_item_id, row.period);
      const fence = fences?.[key] ?? null;
      for (const c of row.contributions) if (fence !== null && c.seq <= fence) add(key, row.campaign_item_id, row.period, c.counter, -1);
    }
    // The counts of the state with the batch in it, minus those of the state without it, which
    // the rows hold already (counted before the batch, by later records or by other redrives).
    const replay = planBatch(auctionRecords, new Map([[txId, { ...now, seq: '' }]]), settings);
    const changed = replay.states[0];
    const final = changed ?? now;
    stats.replayed += replay.stats.applied;
    for (const c of countsOf(final, settings.periodSeconds)) add(c.key, c.campaign, c.period, c.counter, 1);
    for (const c of countsOf(now, settings.periodSeconds)) add(c.key, c.campaign, c.period, c.counter, -1);

    if (!changed) continue; // every record a duplicate of what the state already holds
    const lastSeq = auctionRecords[auctionRecords.length - 1].seq;
    const seq = stored && stored.seq > lastSeq ? stored.seq : lastSeq;
    const state: TxState = { ...changed, seq };
    for (const kind of KINDS) if (timeOf(now, kind) === undefined && timeOf(state, kind) !== undefined) state[`${kind}_redrive_at`] = redriveAt;
    states.push({ state, expectedSeq: stored?.seq });
  }
  return {
    rows: [...rows.values()].filter((r) => Object.values(r.delta).some((n) => n !== 0)),
    states,
    stats,
  };
}
