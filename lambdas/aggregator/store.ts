/**
 * The aggregator's DynamoDB side: reads and writes join states in batches, and applies row deltas
 * with a per-shard fence so a retried batch never adds twice. It counts the
 * requests it makes, the figure the pipeline benchmark holds to its goal.
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { COUNTERS, totalsOf, type AggregateRow, type Totals } from '../../schemas/aggregates';
import { KeyedItems, mapBounded } from '../commons/dynamo-batch';
import { unlessConditionFails } from '../commons/dynamo-conditions';
import { totalsAbove, type RowDelta, type TxState } from './plan';

export const ROW_UPDATE_CONCURRENCY = 16;

function toRow(item: Record<string, unknown>): AggregateRow {
  return {
    campaign_item_id: item.campaign_item_id as number,
    period: item.period as number,
    ...totalsOf(item),
    revision: (item.revision as number | undefined) ?? 0,
    updated_at: (item.updated_at as number | undefined) ?? 0,
  };
}

/** The fence attribute of a shard on an aggregate row. */
export function fenceAttribute(shardId: string): string {
  return `fence_${shardId}`;
}

/** An update's `ADD` clause for every counter of `totals`, and its values. */
function counterAdds(totals: Totals): { expression: string; values: Record<string, number> } {
  return { expression: COUNTERS.map((c) => `${c} :${c}`).join(', '), values: Object.fromEntries(COUNTERS.map((c) => [`:${c}`, totals[c]])) };
}

export class AggregatorStore {
  private rowRequests = 0;
  private readonly txStates: KeyedItems<TxState>;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly txTable: string,
    private readonly aggregatesTable: string,
  ) {
    this.txStates = new KeyedItems(db, txTable, 'tx_id');
  }

  /** DynamoDB requests made so far. */
  get requests(): number {
    return this.rowRequests + this.txStates.requests;
  }

  async getTxStates(txIds: readonly string[]): Promise<Map<string, TxState>> {
    return this.txStates.getAll(txIds);
  }

  async putTxStates(states: readonly TxState[]): Promise<void> {
    await this.txStates.putAll(states);
  }

  /**
   * Applies every row's delta and resolves with each row as it now stands, including rows a
   * previous attempt had already brought up to date (so their revision is published again).
   */
  async applyRows(rows: readonly RowDelta[], shardId: string, now: number): Promise<AggregateRow[]> {
    return mapBounded(rows, ROW_UPDATE_CONCURRENCY, (row) => this.applyRow(row, shardId, now));
  }

  /**
   * Adds a redrive's signed delta to a row once: the row keeps the redrive's marker, and a row
   * that has it already is left alone. Resolves with the row as it now stands, and whether this
   * call changed it.
   */
  async addRedriveDelta(row: { campaign_item_id: number; period: number; delta: Totals }, marker: string, now: number): Promise<{ row: AggregateRow; added: boolean }> {
    const key = { campaign_item_id: row.campaign_item_id, period: row.period };
    const adds = counterAdds(row.delta);
    this.rowRequests++;
    const out = await unlessConditionFails(
      this.db.send(
        new UpdateCommand({
          TableName: this.aggregatesTable,
          Key: key,
          UpdateExpression: `ADD ${adds.expression}, revision :one SET #marker = :true, updated_at = :now`,
          ConditionExpression: 'attribute_not_exists(#marker)',
          ExpressionAttributeNames: { '#marker': marker },
          ExpressionAttributeValues: { ...adds.values, ':one': 1, ':true': true, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (out) return { row: toRow(out.Attributes!), added: true };
    // An earlier run added it, and may have stopped before publishing the row: it is read to be published again.
    this.rowRequests++;
    const current = await this.db.send(new GetCommand({ TableName: this.aggregatesTable, Key: key, ConsistentRead: true }));
    return { row: toRow(current.Item!), added: false };
  }

  /** Writes a join state only if the stored one still has the fence it had when read (none: absent). */
  async putTxStateIfUnchanged(state: TxState, expectedSeq: string | undefined): Promise<boolean> {
    this.rowRequests++;
    const out = await unlessConditionFails(
      this.db.send(
        new PutCommand({
          TableName: this.txTable,
          Item: state,
          ConditionExpression: expectedSeq === undefined ? 'attribute_not_exists(tx_id)' : 'seq = :expected',
          ...(expectedSeq !== undefined && { ExpressionAttributeValues: { ':expected': expectedSeq } }),
        }),
      ),
    );
    return out !== undefined;
  }

  private async applyRow(row: RowDelta, shardId: string, now: number): Promise<AggregateRow> {
    const first = row.contributions[0].seq;
    // The usual case: nothing of this batch is on the row yet, one conditional update adds it all.
    const added = await unlessConditionFails(this.addToRow(row, shardId, undefined, `attribute_not_exists(#fence) OR #fence < :first`, { ':first': first }, now));
    if (added) return added;
    // A previous attempt stored part of this batch: add only what lies above the row's fence.
    this.rowRequests++;
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
    this.rowRequests++;
    const adds = counterAdds(totals);
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.aggregatesTable,
        Key: { campaign_item_id: row.campaign_item_id, period: row.period },
        UpdateExpression: `ADD ${adds.expression}, revision :one SET #fence = :last, updated_at = :now`,
        ConditionExpression: condition,
        ExpressionAttributeNames: { '#fence': fenceAttribute(shardId) },
        ExpressionAttributeValues: { ...conditionValues, ...adds.values, ':one': 1, ':last': last, ':now': now },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toRow(out.Attributes!);
  }
}
