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
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { batchGet } from '../commons/dynamo-batch';
import { fenceAttribute } from './store';
import { rowKey } from './plan';

/** A batch's position on its shard: padded sequence numbers of its first and last records. */
export interface SeqRange {
  first: string;
  last: string;
}

export interface JournalEntry extends SeqRange {
  shard_id: string;
  entry: 'journal';
  done: boolean;
  /** The rows the batch updates, as `campaign#period`. */
  rows: string[];
  /** The last record of any batch left unfinished on the shard: attempts up to it are recoveries. */
  recover_until?: string;
  expires_at: number;
}

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

const JOURNAL = 'journal';
const EVIDENCE = 'evidence#';
/** Evidence outlives the events stream's retention (7 days), after which no batch can be replayed. */
const EVIDENCE_TTL_SECONDS = 8 * 24 * 3600;

export function covers(outer: SeqRange, inner: SeqRange): boolean {
  return outer.first <= inner.first && inner.last <= outer.last;
}

export function overlaps(a: SeqRange, b: SeqRange): boolean {
  return a.first <= b.last && b.first <= a.last;
}

const expiry = () => Math.floor(Date.now() / 1000) + EVIDENCE_TTL_SECONDS;

export class AggregatorJournal {
  requests = 0;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly aggregatesTable: string,
  ) {}

  /**
   * Records the batch about to be written, first keeping evidence of an unfinished batch it does
   * not cover. Resolves whether it retries records of an unfinished attempt (a retry, or a half of
   * a split batch): then `finish` keeps evidence that it completed.
   */
  async begin(shardId: string, range: SeqRange, rows: readonly { campaign_item_id: number; period: number }[]): Promise<boolean> {
    const rowKeys = rows.map((r) => rowKey(r.campaign_item_id, r.period));
    try {
      this.requests++;
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { shard_id: shardId, entry: JOURNAL },
          UpdateExpression: 'SET #first = :first, #last = :last, #rows = :rows, #done = :false, expires_at = :expires',
          ConditionExpression: 'attribute_not_exists(shard_id) OR #done = :true',
          ExpressionAttributeNames: { '#first': 'first', '#last': 'last', '#rows': 'rows', '#done': 'done' },
          ExpressionAttributeValues: { ':first': range.first, ':last': range.last, ':rows': rowKeys, ':false': false, ':true': true, ':expires': expiry() },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const recoverUntil = (out.Attributes as JournalEntry | undefined)?.recover_until;
      return recoverUntil !== undefined && range.first <= recoverUntil;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
    const previous = await this.journal(shardId);
    let recoverUntil = previous?.recover_until;
    if (previous && !previous.done) {
      if (!covers(range, previous)) await this.captureEvidence(previous);
      if (recoverUntil === undefined || previous.last > recoverUntil) recoverUntil = previous.last;
    }
    const item: JournalEntry = { shard_id: shardId, entry: JOURNAL, ...range, done: false, rows: rowKeys, expires_at: expiry(), ...(recoverUntil !== undefined && { recover_until: recoverUntil }) };
    this.requests++;
    await this.db.send(new PutCommand({ TableName: this.table, Item: item }));
    return recoverUntil !== undefined && range.first <= recoverUntil;
  }

  /** Marks the batch done (after keeping evidence that it completed, when it follows an unfinished attempt). */
  async finish(shardId: string, range: SeqRange, recovering: boolean): Promise<void> {
    if (recovering) {
      this.requests++;
      const evidence: Evidence = { shard_id: shardId, entry: `${evidenceEntry(range)}#complete`, ...range, fences: {}, complete: true, captured_at: Date.now(), expires_at: expiry() };
      await this.db.send(new PutCommand({ TableName: this.table, Item: evidence }));
    }
    try {
      this.requests++;
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { shard_id: shardId, entry: JOURNAL },
          UpdateExpression: 'SET #done = :true',
          ConditionExpression: '#first = :first AND #last = :last',
          ExpressionAttributeNames: { '#first': 'first', '#last': 'last', '#done': 'done' },
          ExpressionAttributeValues: { ':true': true, ':first': range.first, ':last': range.last },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  async journal(shardId: string): Promise<JournalEntry | undefined> {
    this.requests++;
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { shard_id: shardId, entry: JOURNAL }, ConsistentRead: true }));
    return out.Item as JournalEntry | undefined;
  }

  /**
   * Reads the shard's fences on the journal's rows and stores them as the batch's evidence, one
   * item per range. The first capture of a range wins: a later one could read fences that later
   * batches have moved.
   */
  async captureEvidence(journal: JournalEntry): Promise<Evidence> {
    const attribute = fenceAttribute(journal.shard_id);
    const keys = journal.rows.map((key) => {
      const [campaign, period] = key.split('#').map(Number);
      return { campaign_item_id: campaign, period };
    });
    const items = await batchGet(this.db, this.aggregatesTable, keys, () => this.requests++);
    const fences: Record<string, string | null> = Object.fromEntries(journal.rows.map((key) => [key, null]));
    for (const item of items) fences[rowKey(item.campaign_item_id as number, item.period as number)] = (item[attribute] as string | undefined) ?? null;
    const evidence: Evidence = { shard_id: journal.shard_id, entry: evidenceEntry(journal), first: journal.first, last: journal.last, fences, captured_at: Date.now(), expires_at: expiry() };
    try {
      this.requests++;
      await this.db.send(new PutCommand({ TableName: this.table, Item: evidence, ConditionExpression: 'attribute_not_exists(shard_id)' }));
      return evidence;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const stored = await this.db.send(new GetCommand({ TableName: this.table, Key: { shard_id: journal.shard_id, entry: evidence.entry }, ConsistentRead: true }));
      return stored.Item as Evidence;
    }
  }

  /**
   * Every evidence of attempts that covered records of an abandoned range: those kept for ranges
   * overlapping it, and the shard's journal if it still names an unfinished overlapping batch
   * (nothing has run on the shard since; it is captured now).
   */
  async evidenceFor(shardId: string, range: SeqRange): Promise<Evidence[]> {
    const found: Evidence[] = [];
    const current = await this.journal(shardId);
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
