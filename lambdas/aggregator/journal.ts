/**
 * The aggregator's per-shard journal: what makes a dead-lettered batch replayable exactly.
 *
 * An invocation stores join states first and rows after, so the counts a batch owes its rows are
 * a pure function of the states it stored (plan.ts pairsCompletedBy), whichever attempt adds
 * them. Row fences say how far a shard's records reached a row, but once a batch is abandoned to
 * the dead-letter destination, the next batches move them past it. So before writing, an
 * invocation records its range and the rows it will update (the journal), and marks it done at
 * the end. An invocation that finds an unfinished journal it does not cover (the batch it names
 * was abandoned, or split in halves) first reads the fences of that batch's rows, which nothing
 * later has moved yet, and keeps them as evidence: a count reached its row if the fence is at or
 * above its sequence number. An attempt that completes after an unfinished one (a retry, a half)
 * keeps evidence that it completed, since a failure reported after it would dead-letter a batch
 * that is whole. `sdp dlq redrive` replays a batch against that evidence (redrive.ts).
 * Cost: two writes a batch; reads and a write more only after a failure.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { batchGet } from '../commons/dynamo-batch';
import { unlessConditionFails } from '../commons/dynamo-conditions';
import { aggregatorTimeoutSeconds, readSetting, stateTtlSeconds } from '../../schemas/resources';
import { fenceAttribute, rowItemKey } from './store';
import { parseRowKey, rowKey, type RowRef } from './plan';

/** A batch's position on its shard: padded sequence numbers of its first and last records. */
export interface SeqRange {
  first: string;
  last: string;
}

export interface JournalEntry extends SeqRange {
  shard_id: string;
  entry: 'journal';
  done: boolean;
  /** The rows the batch updates, as `group#period` (plan.ts rowKey). */
  rows: string[];
  /** The last record of any batch left unfinished on the shard: attempts up to it are recoveries. */
  recover_until?: string;
  expires_at: number;
}

/** What the journal item says of redrives and of the batch writing now (redrive-lease.ts). */
export interface ShardHold {
  /** Set from a batch's begin to its finish; a batch cannot write for longer than an invocation runs. */
  in_flight_until?: number;
  /** The redrive holding the shard, and until when (epoch ms). */
  lease_holder?: string;
  lease_until?: number;
  /** Incremented each time a redrive takes the shard. */
  redrive_epoch?: number;
  /** Set by a batch waiting for a redrive to let go, refreshed as it waits: it begins before the next redrive takes the shard. */
  batch_waiting?: number;
}

/** The journal item: a batch's entry, or only a redrive's hold on a shard no batch has begun on yet. */
export type JournalItem = ShardHold & Pick<JournalEntry, 'shard_id' | 'entry'> & Partial<JournalEntry>;

/** How a batch's begin went: it may write, or it must read its states again (a redrive rewrote them). */
export type Begun = { recovering: boolean } | 'read again';

export interface Evidence extends SeqRange {
  shard_id: string;
  entry: string;
  /** Each row's shard fence when the batch was abandoned; null when the shard had not touched it. */
  fences: Record<string, string | null>;
  /** Set when an attempt of exactly this range stored everything it owed. */
  complete?: boolean;
  captured_at: number;
  expires_at: number;
}

const JOURNAL_ENTRY = 'journal';
const EVIDENCE = 'evidence#';
/** Evidence outlives the events stream's retention (a day more, 8 days at least), after which no batch can be replayed. */
const EVIDENCE_TTL_SECONDS = stateTtlSeconds(8 * 24 * 3600, readSetting('eventsStreamRetentionSeconds'), 24 * 3600);

export function covers(outer: SeqRange, inner: SeqRange): boolean {
  return outer.first <= inner.first && inner.last <= outer.last;
}

export function overlaps(a: SeqRange, b: SeqRange): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** An update of a shard's journal item (`input` without its table and key). */
export function updateJournalItem(table: string, shardId: string, input: Omit<UpdateCommandInput, 'TableName' | 'Key'>): UpdateCommand {
  return new UpdateCommand({ TableName: table, Key: { shard_id: shardId, entry: JOURNAL_ENTRY }, ...input });
}

/** The batch the journal item names, if one began on the shard. */
function batchOf(item: JournalItem | undefined): JournalEntry | undefined {
  return item?.first !== undefined ? (item as JournalEntry) : undefined;
}

function redriveHolds(item: JournalItem | undefined, now: number): boolean {
  return item?.lease_until !== undefined && item.lease_until >= now;
}

/** Condition that no redrive holds the shard (`:now`) and none took it since `epoch` (`:epoch`). */
function noRedriveSince(epoch: number): string {
  return `(attribute_not_exists(lease_until) OR lease_until < :now) AND ${epoch === 0 ? 'attribute_not_exists(redrive_epoch)' : 'redrive_epoch = :epoch'}`;
}

/** A waiting batch's mark older than this is of a batch that no longer waits. */
export const WAITING_FRESH_MS = 5_000;
/** A batch that began this long ago is no longer writing: its invocation has timed out. */
export const IN_FLIGHT_MS = (aggregatorTimeoutSeconds + 10) * 1000;
const REDRIVE_POLL_MS = 100;
const expiry = () => Math.floor(Date.now() / 1000) + EVIDENCE_TTL_SECONDS;

export class AggregatorJournal {
  requests = 0;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly aggregatesTable: string,
  ) {}

  /** The redrive epoch per shard that this environment's states were read under. */
  private readonly epochs = new Map<string, number>();
  /** Shards on which this environment marked that a batch waits. */
  private readonly waiting = new Set<string>();

  /**
   * Call before reading a batch's states: waits while a redrive holds the shard (until `deadline`,
   * epoch ms) and learns its redrive epoch, unless known from an earlier batch.
   */
  async ready(shardId: string, deadline: number): Promise<void> {
    if (this.epochs.has(shardId)) return;
    let item = await this.journal(shardId);
    while (redriveHolds(item, Date.now())) {
      if (Date.now() >= deadline) throw new Error(`sdp dlq redrive still holds shard ${shardId}; the batch is retried`);
      await this.markWaiting(shardId);
      this.waiting.add(shardId);
      await sleep(REDRIVE_POLL_MS);
      item = await this.journal(shardId);
    }
    this.epochs.set(shardId, item?.redrive_epoch ?? 0);
  }

  /** Takes back this environment's mark that a batch waits, when the batch had nothing to write after all (`begin` clears it otherwise). */
  async notWaiting(shardId: string): Promise<void> {
    if (!this.waiting.delete(shardId)) return;
    this.requests++;
    await this.db.send(updateJournalItem(this.table, shardId, { UpdateExpression: 'REMOVE batch_waiting' }));
  }

  /** Says a batch waits for the shard, so that a redrive working through many letters lets it in between them. */
  private async markWaiting(shardId: string): Promise<void> {
    this.requests++;
    await this.db.send(updateJournalItem(this.table, shardId, { UpdateExpression: 'SET batch_waiting = :now', ExpressionAttributeValues: { ':now': Date.now() } }));
  }

  /**
   * Records the batch about to be written, first keeping evidence of an unfinished batch it does
   * not cover. Resolves whether it retries records of an unfinished attempt (a retry, or a half of
   * a split batch): then `finish` keeps evidence that it completed. Resolves 'read again' when a
   * redrive holds the shard or took it since `ready`: the states read may be stale.
   */
  async begin(shardId: string, range: SeqRange, rows: readonly Pick<RowRef, 'group' | 'period'>[]): Promise<Begun> {
    const epoch = this.epochs.get(shardId);
    if (epoch === undefined) throw new Error(`begin on shard ${shardId} before ready`);
    const rowKeys = rows.map((r) => rowKey(r.group, r.period));
    const now = Date.now();
    const hold = { ':now': now, ...(epoch !== 0 && { ':epoch': epoch }) };
    this.requests++;
    const out = await unlessConditionFails(
      this.db.send(
        updateJournalItem(this.table, shardId, {
          UpdateExpression: 'SET #first = :first, #last = :last, #rows = :rows, #done = :false, expires_at = :expires, in_flight_until = :inFlight REMOVE batch_waiting',
          ConditionExpression: `(attribute_not_exists(#done) OR #done = :true) AND ${noRedriveSince(epoch)}`,
          ExpressionAttributeNames: { '#first': 'first', '#last': 'last', '#rows': 'rows', '#done': 'done' },
          ExpressionAttributeValues: { ':first': range.first, ':last': range.last, ':rows': rowKeys, ':false': false, ':true': true, ':expires': expiry(), ':inFlight': now + IN_FLIGHT_MS, ...hold },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    if (out) {
      this.waiting.delete(shardId);
      const recoverUntil = (out.Attributes as JournalItem | undefined)?.recover_until;
      return { recovering: recoverUntil !== undefined && range.first <= recoverUntil };
    }
    const current = await this.journal(shardId);
    const previous = batchOf(current);
    if (redriveHolds(current, Date.now()) || (current?.redrive_epoch ?? 0) !== epoch || !previous) return this.readAgain(shardId);
    let recoverUntil = previous.recover_until;
    if (!previous.done) {
      if (!covers(range, previous)) await this.captureEvidence(previous);
      if (recoverUntil === undefined || previous.last > recoverUntil) recoverUntil = previous.last;
    }
    const item: JournalItem = {
      shard_id: shardId, entry: JOURNAL_ENTRY, ...range, done: false, rows: rowKeys, expires_at: expiry(), in_flight_until: Date.now() + IN_FLIGHT_MS,
      ...(recoverUntil !== undefined && { recover_until: recoverUntil }),
      ...(epoch !== 0 && { redrive_epoch: epoch }),
    };
    this.requests++;
    const put = await unlessConditionFails(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: `#first = :previousFirst AND #last = :previousLast AND ${noRedriveSince(epoch)}`,
          ExpressionAttributeNames: { '#first': 'first', '#last': 'last' },
          ExpressionAttributeValues: { ':previousFirst': previous.first, ':previousLast': previous.last, ...hold, ':now': Date.now() },
        }),
      ),
    );
    if (!put) return this.readAgain(shardId);
    this.waiting.delete(shardId);
    return { recovering: recoverUntil !== undefined && range.first <= recoverUntil };
  }

  private readAgain(shardId: string): 'read again' {
    this.epochs.delete(shardId);
    return 'read again';
  }

  /** Marks the batch done (after keeping evidence that it completed, when it follows an unfinished attempt). */
  async finish(shardId: string, range: SeqRange, recovering: boolean): Promise<void> {
    if (recovering) {
      this.requests++;
      const evidence: Evidence = { shard_id: shardId, entry: `${evidenceEntry(range)}#complete`, ...range, fences: {}, complete: true, captured_at: Date.now(), expires_at: expiry() };
      await this.db.send(new PutCommand({ TableName: this.table, Item: evidence }));
    }
    await this.updateIfCurrent(shardId, range, 'SET #done = :true REMOVE in_flight_until', { '#done': 'done' }, { ':true': true });
  }

  /** Says that the batch, which failed, is no longer writing. */
  async stoppedWriting(shardId: string, range: SeqRange): Promise<void> {
    await this.updateIfCurrent(shardId, range, 'REMOVE in_flight_until');
  }

  /** Updates the shard's journal if it still names the batch `range`. */
  private async updateIfCurrent(shardId: string, range: SeqRange, expression: string, names: Record<string, string> = {}, values: Record<string, unknown> = {}): Promise<void> {
    this.requests++;
    await unlessConditionFails(
      this.db.send(
        updateJournalItem(this.table, shardId, {
          UpdateExpression: expression,
          ConditionExpression: '#first = :first AND #last = :last',
          ExpressionAttributeNames: { '#first': 'first', '#last': 'last', ...names },
          ExpressionAttributeValues: { ':first': range.first, ':last': range.last, ...values },
        }),
      ),
    );
  }

  async journal(shardId: string): Promise<JournalItem | undefined> {
    this.requests++;
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { shard_id: shardId, entry: JOURNAL_ENTRY }, ConsistentRead: true }));
    return out.Item as JournalItem | undefined;
  }

  /**
   * Reads the shard's fences on the journal's rows and stores them as the batch's evidence, one
   * item per range. The first capture of a range wins: a later one could read fences that later
   * batches have moved.
   */
  async captureEvidence(journal: JournalEntry): Promise<Evidence> {
    const attribute = fenceAttribute(journal.shard_id);
    const keys = journal.rows.map((key) => rowItemKey(parseRowKey(key)));
    const items = await batchGet(this.db, this.aggregatesTable, keys, () => this.requests++);
    const fences: Record<string, string | null> = Object.fromEntries(journal.rows.map((key) => [key, null]));
    for (const item of items) fences[rowKey(item.group as string, item.period as number)] = (item[attribute] as string | undefined) ?? null;
    const evidence: Evidence = { shard_id: journal.shard_id, entry: evidenceEntry(journal), first: journal.first, last: journal.last, fences, captured_at: Date.now(), expires_at: expiry() };
    this.requests++;
    if (await unlessConditionFails(this.db.send(new PutCommand({ TableName: this.table, Item: evidence, ConditionExpression: 'attribute_not_exists(shard_id)' })))) return evidence;
    const stored = await this.db.send(new GetCommand({ TableName: this.table, Key: { shard_id: journal.shard_id, entry: evidence.entry }, ConsistentRead: true }));
    return stored.Item as Evidence;
  }

  /**
   * Every evidence of attempts that covered records of an abandoned range: those kept for ranges
   * overlapping it, and the shard's journal if it still names an unfinished overlapping batch
   * (nothing has run on the shard since; it is captured now).
   */
  async evidenceFor(shardId: string, range: SeqRange): Promise<Evidence[]> {
    const found: Evidence[] = [];
    const current = batchOf(await this.journal(shardId));
    if (current && !current.done && overlaps(current, range)) found.push(await this.captureEvidence(current));
    let start: Record<string, unknown> | undefined;
    do {
      this.requests++;
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'shard_id = :shard AND #entry BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#entry': 'entry' },
          ExpressionAttributeValues: { ':shard': shardId, ':from': EVIDENCE, ':to': `${EVIDENCE}${range.last}#~` },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      found.push(...((out.Items ?? []) as Evidence[]).filter((e) => overlaps(e, range)));
      start = out.LastEvaluatedKey;
    } while (start);
    return found;
  }
}

/** Evidence is kept per range: a batch and the halves it is split into share their first record. */
function evidenceEntry(range: SeqRange): string {
  return `${EVIDENCE}${range.first}#${range.last}`;
}
