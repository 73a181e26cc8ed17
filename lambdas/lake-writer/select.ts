/**
 * Which events of a batch the lake writer writes, so that every event (type, tx_id) lands in the
 * lake once however often clients resend it or the stream redelivers it. The lake-seen state of an
 * auction records, per type, the (padded) sequence number of the record that was written:
 * - written by an earlier batch (below this batch's first record): skip every copy;
 * - written by an earlier attempt of this very batch: write that same record again, since the
 *   retry rewrites the same files (their keys name the batch's first record);
 * - not written yet: write the first copy in the batch.
 * Pure: the same batch and states give the same choice on every attempt.
 */
import type { EventType, StreamEvent } from '../../schemas/events';

export interface LakeSeen {
  tx_id: string;
  bid_seq?: string;
  impression_seq?: string;
  click_seq?: string;
  expires_at?: number;
}

export interface SequencedEvent {
  /** Padded sequence number (lambdas/commons/sequence.ts). */
  seq: string;
  event: StreamEvent;
}

const seqField = (type: EventType) => `${type}_seq` as const;

export function selectForLake(
  records: readonly SequencedEvent[],
  seen: ReadonlyMap<string, LakeSeen>,
  expiresAt: number,
): { events: StreamEvent[]; states: LakeSeen[] } {
  if (records.length === 0) return { events: [], states: [] };
  const batchStart = records[0].seq;
  const states = new Map<string, LakeSeen>();
  const events: StreamEvent[] = [];
  for (const { seq, event } of records) {
    const field = seqField(event.type);
    const stored = seen.get(event.tx_id)?.[field];
    const chosen = states.get(event.tx_id)?.[field];
    if (stored !== undefined && stored < batchStart) continue;
    if (stored !== undefined ? stored !== seq : chosen !== undefined) continue;
    events.push(event);
    const state = states.get(event.tx_id) ?? { ...seen.get(event.tx_id), tx_id: event.tx_id };
    states.set(event.tx_id, { ...state, [field]: seq, expires_at: expiresAt });
  }
  return { events, states: [...states.values()] };
}
