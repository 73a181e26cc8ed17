/**
 * The aggregator's DynamoDB side: reads join states in batches, applies row deltas with a per-shard
 * fence so a retried batch never adds twice, and writes join states in batches. It counts the
 * requests it makes, the figure the pipeline benchmark holds to its goal.
 */
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  GetCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { COUNTERS, totalsOf, type AggregateRow } from '../../schemas/aggregates';
import { totalsAbove, type RowDelta, type TxState } from './plan';

const BATCH_GET_LIMIT = 100;
const BATCH_WRITE_LIMIT = 25;
const ROW_UPDATE_CONCURRENCY = 16;
const MAX_UNPROCESSED_ROUNDS = 12;

function toRow(item: Record<string, unknown>): AggregateRow {
  return {
    campaign_item_id: item.campaign_item_id as number,
    period: item.period as number,
    ...totalsOf(item),
    revision: (item.revision as number | undefined) ?? 0,
    updated_at: (item.updated_at as number | undefined) ?? 0,
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Like Promise.all, but waits for every promise to settle before rejecting: a failed invocation
 * must not leave writes running behind it while its retry already reads and writes the same rows.
 */
async function allSettledOrThrow<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

const backoff = (round: number) => new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** round) * (0.5 + Math.random())));

/** The fence attribute of a shard on an aggregate row. */
export function fenceAttribute(shardId: string): string {
  return `fence_${shardId}`;
}

export class AggregatorStore {
  requests = 0;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly txTable: string,
    private readonly aggregatesTable: string,
  ) {}

  async getTxStates(txIds: readonly string[]): Promise<Map<string, TxState>> {
    const found = new Map<string, TxState>();
    await allSettledOrThrow(
      chunks(txIds, BATCH_GET_LIMIT).map(async (ids) => {
        let keys: Record<string, unknown>[] | undefined = ids.map((tx_id) => ({ tx_id }));
        for (let round = 0; keys && keys.length > 0; round++) {
          if (round > MAX_UNPROCESSED_ROUNDS) throw new Error(`BatchGet left ${keys.length} keys unprocessed`);
          if (round > 0) await backoff(round);
          this.requests++;
          const out: BatchGetCommandOutput = await this.db.send(
            new BatchGetCommand({ RequestItems: { [this.txTable]: { Keys: keys, ConsistentRead: true } } }),
          );
          for (const item of out.Responses?.[this.txTable] ?? []) found.set(item.tx_id as string, item as TxState);
          keys = out.UnprocessedKeys?.[this.txTable]?.Keys;
        }
      }),
    );
    return found;
  }

  async putTxStates(states: readonly TxState[]): Promise<void> {
    await allSettledOrThrow(
      chunks(states, BATCH_WRITE_LIMIT).map(async (batch) => {
        let requests: Record<string, unknown>[] | undefined = batch.map((Item) => ({ PutRequest: { Item } }));
        for (let round = 0; requests && requests.length > 0; round++) {
          if (round > MAX_UNPROCESSED_ROUNDS) throw new Error(`BatchWrite left ${requests.length} items unprocessed`);
          if (round > 0) await backoff(round);
          this.requests++;
          const out = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.txTable]: requests as never } }));
          requests = out.UnprocessedItems?.[this.txTable] as Record<string, unknown>[] | undefined;
        }
      }),
    );
  }

  /**
   * Applies every row's delta and resolves with each row as it now stands, including rows a
   * previous attempt had already brought up to date (so their revision is published again).
   */
  async applyRows(rows: readonly RowDelta[], shardId: string, now: number): Promise<AggregateRow[]> {
    const results: AggregateRow[] = new Array(rows.length);
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < rows.length && !failed) {
        const i = next++;
        try {
          results[i] = await this.applyRow(rows[i], shardId, now);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    await allSettledOrThrow(Array.from({ length: Math.min(ROW_UPDATE_CONCURRENCY, rows.length) }, worker));
    return results;
  }

  private async applyRow(row: RowDelta, shardId: string, now: number): Promise<AggregateRow> {
    const first = row.contributions[0].seq;
    try {
      // The usual case: nothing of this batch is on the row yet, one conditional update adds it all.
      return (await this.addToRow(row, shardId, undefined, `attribute_not_exists(#fence) OR #fence < :first`, { ':first': first }, now))!;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
    // A previous attempt stored part of this batch: add only what lies above the row's fence.
    this.requests++;
    const current = await this.db.send(
      new GetCommand({
        TableName: this.aggregatesTable,
        Key: { campaign_item_id: row.campaign_item_id, period: row.period },
        ConsistentRead: true,
      }),
    );
    const stored = current.Item?.[fenceAttribute(shardId)] as string | undefined;
    const updated =
      stored === undefined
        ? await this.addToRow(row, shardId, undefined, 'attribute_not_exists(#fence)', {}, now)
        : await this.addToRow(row, shardId, stored, '#fence = :stored', { ':stored': stored }, now);
    return updated ?? toRow(current.Item!);
  }

  private async addToRow(
    row: RowDelta,
    shardId: string,
    fence: string | undefined,
    condition: string,
    conditionValues: Record<string, unknown>,
    now: number,
  ): Promise<AggregateRow | undefined> {
    const { totals, last } = totalsAbove(row, fence);
    if (last === undefined) return undefined;
    this.requests++;
    const adds = COUNTERS.map((c) => `${c} :${c}`).join(', ');
    const addValues = Object.fromEntries(COUNTERS.map((c) => [`:${c}`, totals[c]]));
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.aggregatesTable,
        Key: { campaign_item_id: row.campaign_item_id, period: row.period },
        UpdateExpression: `ADD ${adds}, revision :one SET #fence = :last, updated_at = :now`,
        ConditionExpression: condition,
        ExpressionAttributeNames: { '#fence': fenceAttribute(shardId) },
        ExpressionAttributeValues: { ...conditionValues, ...addValues, ':one': 1, ':last': last, ':now': now },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toRow(out.Attributes!);
  }
}
