/**
 * The aggregator's per-shard journal: what makes a dead-lettered batch replayable exactly.
 *
 * Row fences say how far a shard's records reached a row, but once a batch is abandoned to the
 * dead-letter destination, the next batches move those fences past it, and what the abandoned
 * batch had stored is no longer readable from them. So before touching any row, an invocation
 * records its range and the rows it will update (the journal), and marks it done at the end. An
 * invocation that finds an unfinished journal it does not cover (the batch it names was abandoned,
 * or split) first reads the fences of that batch's rows, which nothing later has moved yet, and
 * keeps them as evidence. `sdp dlq redrive` replays the batch against that evidence (redrive.ts).
 * Cost: two writes a batch, plus a read and a few more only after a failure.
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
  expires_at: number;
}

export interface Evidence extends SeqRange {
  shard_id: string;
  entry: string;
  /** Each row's shard fence when the batch was abandoned; null when the shard had not touched it. */
  fences: Record<string, string | null>;
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

export class AggregatorJournal {
  requests = 0;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly aggregatesTable: string,
  ) {}

  /** Records the batch about to be applied, first keeping evidence of an unfinished batch it does not cover. */
  async begin(shardId: string, range: SeqRange, rows: readonly { campaign_item_id: number; period: number }[]): Promise<void> {
    const item: JournalEntry = {
      shard_id: shardId,
      entry: JOURNAL,
      ...range,
      done: false,
      rows: rows.map((r) => rowKey(r.campaign_item_id, r.period)),
      expires_at: Math.floor(Date.now() / 1000) + EVIDENCE_TTL_SECONDS,
    };
    try {
      this.requests++;
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(shard_id) OR done = :true OR (#first >= :first AND #last <= :last)',
          ExpressionAttributeNames: { '#first': 'first', '#last': 'last' },
          ExpressionAttributeValues: { ':true': true, ':first': range.first, ':last': range.last },
        }),
      );
      return;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
    const previous = await this.journal(shardId);
    if (previous && !previous.done && !covers(range, previous)) await this.captureEvidence(previous);
    this.requests++;
    await this.db.send(new PutCommand({ TableName: this.table, Item: item }));
  }

  /** Marks the batch done, unless a later invocation has already taken the journal over. */
  async finish(shardId: string, range: SeqRange): Promise<void> {
    try {
      this.requests++;
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { shard_id: shardId, entry: JOURNAL },
          UpdateExpression: 'SET done = :true',
          ConditionExpression: '#first = :first AND #last = :last',
          ExpressionAttributeNames: { '#first': 'first', '#last': 'last' },
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
   * Reads the shard's fences on the journal's rows and stores them as the batch's evidence. The
   * first capture of a batch wins: a later one could read fences that later batches have moved.
   */
  async captureEvidence(journal: JournalEntry): Promise<Evidence> {
    const attribute = fenceAttribute(journal.shard_id);
    const keys = journal.rows.map((key) => {
      const [campaign, period] = key.split('#').map(Number);
      return { campaign_item_id: campaign, period };
    });
    const items = await batchGet(this.db, this.aggregatesTable, keys, () => this.requests++);
    const fences: Record<string, string | null> = Object.fromEntries(journal.rows.map((key) => [key, null]));
    for (const item of items) {
      const fence = item[attribute] as string | undefined;
      fences[rowKey(item.campaign_item_id as number, item.period as number)] = fence ?? null;
    }
    const evidence: Evidence = {
      shard_id: journal.shard_id,
      entry: `${EVIDENCE}${journal.first}`,
      first: journal.first,
      last: journal.last,
      fences,
      captured_at: Date.now(),
      expires_at: Math.floor(Date.now() / 1000) + EVIDENCE_TTL_SECONDS,
    };
    try {
      this.requests++;
      await this.db.send(new PutCommand({ TableName: this.table, Item: evidence, ConditionExpression: 'attribute_not_exists(shard_id)' }));
      return evidence;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const stored = await this.db.send(
        new GetCommand({ TableName: this.table, Key: { shard_id: journal.shard_id, entry: evidence.entry }, ConsistentRead: true }),
      );
      return stored.Item as Evidence;
    }
  }

  /**
   * The evidence for an abandoned range: the latest captured for a batch covering it. When the
   * shard's journal still names an unfinished batch covering it (nothing has run on the shard
   * since), the evidence is captured now. Undefined when no attempt ever journaled it, in which
   * case none of its records reached a row.
   */
  async evidenceFor(shardId: string, range: SeqRange): Promise<Evidence | undefined> {
    const current = await this.journal(shardId);
    if (current && !current.done && covers(current, range)) return this.captureEvidence(current);
    const found: Evidence[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      this.requests++;
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'shard_id = :shard AND entry BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':shard': shardId, ':from': EVIDENCE, ':to': `${EVIDENCE}${range.first}` },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      found.push(...((out.Items ?? []) as Evidence[]).filter((e) => covers(e, range)));
      start = out.LastEvaluatedKey;
    } while (start);
    return found.sort((a, b) => b.captured_at - a.captured_at)[0];
  }
}
