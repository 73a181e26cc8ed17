/**
 * Which events of a batch the lake writer writes, so that every event (its stream and identity,
 * schemas/stream-record.ts identityKey) lands in the lake once however often clients resend it and whatever the lake writer re-reads: a retried
 * batch, a redrive, a checkpoint reset or lost, a replay from the stream's start, with batch
 * boundaries the same as the first read or not.
 *
 * The lake-seen state of an identity value records, per stream, the (padded) sequence number of the
 * record that was written (`<stream>_seq`) and the tag of the batch that wrote it (`<stream>_file`,
 * fileTag of its file id).
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
 * event's time); compaction, which keeps each event (stream and identity) once per partition, removes the copy.
 * Pure: the same batch and states give the same choice on every attempt.
 */
import { createHash } from 'node:crypto';
import { activePipeline } from '../../schemas/active-pipeline';
import { streamOf, type Pipeline, type StreamSpec } from '../../schemas/pipeline';
import { identityKey } from '../../schemas/stream-record';
import { tables } from '../../schemas/resources';
import type { LakeEvent } from './rows';

/** The attribute naming a lake-seen item (its table's partition key). */
export const SEEN_KEY = tables.lakeSeen.partitionKey.name;

/**
 * A lake-seen item: per identity value, for each stream with an event of that identity written,
 * `<stream>_seq` and `<stream>_file`. Streams whose identities take the same values share an item
 * (a join's streams keyed on the same field: one item per key value), each under its own flags.
 */
export type LakeSeen = { [SEEN_KEY]: string; expires_at?: number } & Partial<Record<string, string | number>>;

export interface SequencedEvent<E extends LakeEvent = LakeEvent> {
  /** Padded sequence number (lambdas/commons/sequence.ts). */
  seq: string;
  /** When the record reached the stream, epoch seconds (approximateArrivalTimestamp). */
  arrivedAt: number;
  event: E;
}

export interface BatchContext {
  /** The batch's file id (rows.ts fileIdFor). */
  fileId: string;
  /** Expiry (epoch seconds) of the states this batch stores: now + lakeSeenTtlSeconds. */
  expiresAt: number;
  /** How long the stream keeps a record: a state must not expire before its copies leave it. */
  retentionSeconds: number;
  /** The pipeline whose streams the events are of (default the active one). */
  pipeline?: Pipeline;
}

const seqField = (stream: string) => `${stream}_seq`;
const fileField = (stream: string) => `${stream}_file`;

/**
 * The lake-seen key of an event: its identity value itself when the identity is one field (adtech:
 * the tx_id, as before streams were declared), else the identity key (a JSON array of the values).
 */
export function seenKey(stream: StreamSpec, event: Readonly<Record<string, unknown>>): string {
  return stream.identity.length === 1 ? String(event[stream.identity[0]]) : identityKey(stream, event);
}

/**
 * A short tag of a batch's file id, stored per event: 16 base64url characters (96 bits of SHA-256),
 * where the file id itself is about 135. Only compared for equality with the tag of the batch at
 * hand; it keeps a lake-seen item with all three events far below DynamoDB's 1 KB write unit.
 */
export function fileTag(fileId: string): string {
  return createHash('sha256').update(fileId).digest('base64url').slice(0, 16);
}

/** The lake-seen keys of a batch's events (what to read before selectForLake). */
export function seenKeys(records: readonly SequencedEvent[], pipeline: Pipeline = activePipeline()): string[] {
  return [...new Set(records.map((r) => seenKey(streamOf(pipeline, r.event.type), r.event as object as Record<string, unknown>)))];
}

export function selectForLake<E extends LakeEvent>(
  records: readonly SequencedEvent<E>[],
  seen: ReadonlyMap<string, LakeSeen>,
  { fileId, expiresAt, retentionSeconds, pipeline = activePipeline() }: BatchContext,
): { events: E[]; states: LakeSeen[] } {
  const tag = fileTag(fileId);
  const states = new Map<string, LakeSeen>();
  const events: E[] = [];
  for (const { seq, arrivedAt, event } of records) {
    const key = seenKey(streamOf(pipeline, event.type), event as object as Record<string, unknown>);
    const stored = seen.get(key);
    if (stored?.[seqField(event.type)] !== undefined) {
      const ours = stored[fileField(event.type)] === tag && stored[seqField(event.type)] === seq;
      if (!ours) {
        const state = states.get(key) ?? stored;
        if ((state.expires_at ?? 0) < arrivedAt + retentionSeconds) states.set(key, { ...state, expires_at: expiresAt });
        continue;
      }
    } else if (states.get(key)?.[seqField(event.type)] !== undefined) {
      continue; // a later copy of an event this batch writes already
    }
    events.push(event);
    const state: LakeSeen = states.get(key) ?? { ...stored, [SEEN_KEY]: key };
    states.set(key, { ...state, [seqField(event.type)]: seq, [fileField(event.type)]: tag, expires_at: expiresAt });
  }
  return { events, states: [...states.values()] };
}
