/**
 * Which events of a batch the lake writer writes, so that every event (type, tx_id) lands in the
 * lake once however often clients resend it and whatever the lake writer re-reads: a retried
 * batch, a redrive, a checkpoint reset or lost, a replay from the stream's start, with batch
 * boundaries the same as the first read or not.
 *
 * The lake-seen state of an auction records, per type, the (padded) sequence number of the record
 * that was written and the tag of the batch that wrote it (`<type>_file`, fileTag of its file id).
 * A batch's files are named after its whole range (rows.ts fileIdFor: shard, first and last
 * record), so only a batch with exactly the same records ever writes the same keys again. Then:
 * - stored by this very batch (same tag, same record): an earlier attempt of it wrote the event and
 *   this attempt rewrites the same files, so it must write the event again, or the rewrite loses it;
 * - stored by any other batch: the event is in that batch's files, which nothing rewrites but that
 *   batch's own retries (they find the tag theirs and keep it): skip every copy. A state without a
 *   tag was stored by an older lake writer that named files after their first record only; no
 *   batch of this one writes those keys again, so its events stay there: skip too;
 * - not stored: write the first copy in the batch.
 * States are stored after the files (handler.ts), so a stored state always names files that exist.
 * A state must outlive every copy of its event on the stream, or a replay of that copy writes the
 * event again. The written copy's state lives lakeSeenTtlSeconds, a day more than the stream's
 * retention (at least the retention: checked where both are set, lib/lake-writer.ts); a skipped
 * copy whose state would expire before the copy leaves the stream (a resend that arrived over a
 * day after the first copy was written) refreshes the state's expiry: the only extra write, only
 * for such late resends.
 * What remains: a batch that wrote its files but died before storing its states, re-read with other
 * boundaries, writes those events a second time, into the same partitions (a partition is the
 * event's time); compaction, which keeps each (type, tx_id) once per partition, removes the copy.
 * Pure: the same batch and states give the same choice on every attempt.
 */
import { createHash } from 'node:crypto';
import type { EventType, StreamEvent } from '../../schemas/events';

export interface LakeSeen {
  tx_id: string;
  bid_seq?: string;
  impression_seq?: string;
  click_seq?: string;
  bid_file?: string;
  impression_file?: string;
  click_file?: string;
  expires_at?: number;
}

export interface SequencedEvent {
  /** Padded sequence number (lambdas/commons/sequence.ts). */
  seq: string;
  /** When the record reached the stream, epoch seconds (approximateArrivalTimestamp). */
  arrivedAt: number;
  event: StreamEvent;
}

export interface BatchContext {
  /** The batch's file id (rows.ts fileIdFor). */
  fileId: string;
  /** Expiry (epoch seconds) of the states this batch stores: now + lakeSeenTtlSeconds. */
  expiresAt: number;
  /** How long the stream keeps a record: a state must not expire before its copies leave it. */
  retentionSeconds: number;
}

const seqField = (type: EventType) => `${type}_seq` as const;
const fileField = (type: EventType) => `${type}_file` as const;

/**
 * A short tag of a batch's file id, stored per event: 16 base64url characters (96 bits of SHA-256),
 * where the file id itself is about 135. Only compared for equality with the tag of the batch at
 * hand; it keeps a lake-seen item with all three events far below DynamoDB's 1 KB write unit.
 */
export function fileTag(fileId: string): string {
  return createHash('sha256').update(fileId).digest('base64url').slice(0, 16);
}

export function selectForLake(
  records: readonly SequencedEvent[],
  seen: ReadonlyMap<string, LakeSeen>,
  { fileId, expiresAt, retentionSeconds }: BatchContext,
): { events: StreamEvent[]; states: LakeSeen[] } {
  const tag = fileTag(fileId);
  const states = new Map<string, LakeSeen>();
  const events: StreamEvent[] = [];
  for (const { seq, arrivedAt, event } of records) {
    const stored = seen.get(event.tx_id);
    if (stored?.[seqField(event.type)] !== undefined) {
      const ours = stored[fileField(event.type)] === tag && stored[seqField(event.type)] === seq;
      if (!ours) {
        const state = states.get(event.tx_id) ?? stored;
        if ((state.expires_at ?? 0) < arrivedAt + retentionSeconds) states.set(event.tx_id, { ...state, expires_at: expiresAt });
        continue;
      }
    } else if (states.get(event.tx_id)?.[seqField(event.type)] !== undefined) {
      continue; // a later copy of an event this batch writes already
    }
    events.push(event);
    const state = states.get(event.tx_id) ?? { ...stored, tx_id: event.tx_id };
    states.set(event.tx_id, { ...state, [seqField(event.type)]: seq, [fileField(event.type)]: tag, expires_at: expiresAt });
  }
  return { events, states: [...states.values()] };
}
