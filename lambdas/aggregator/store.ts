/**
 * The aggregator's DynamoDB side: reads and writes aggregation states in batches, and applies row
 * deltas with a per-shard fence so a retried batch never adds twice. Counts and sums are added
 * under the fence; minima and maxima are idempotent: the fenced update sets one only where the row
 * has none, and a conditional update lowers (raises) it only when the row it returned shows the
 * batch's value is better, whatever the fence said, so a retry also finishes what a stopped
 * attempt left undone. It counts the requests it makes, the figure the pipeline benchmark holds to its goal.
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { FENCE_PREFIX, feedRowOf, type AggregationRow } from '../../schemas/aggregates';
import type { MeasureKind } from '../../schemas/pipeline';
import { KeyedItems, mapBounded } from '../commons/dynamo-batch';
import { unlessConditionFails } from '../commons/dynamo-conditions';
import { extremesOf, measureKinds, totalsAbove, type AggState, type RowDelta, type RowRef, type Totals } from './plan';
import { aggregationNamed } from './aggregations';

export const ROW_UPDATE_CONCURRENCY = 16;

/** The partition key of the state table (schemas/resources.ts tables.txState). */
export const STATE_KEY = 'state_key';

/** The fence attribute of a shard on an aggregate row. */
export function fenceAttribute(shardId: string): string {
  return `${FENCE_PREFIX}${shardId}`;
}

/** The key of a row's item. */
export function rowItemKey(row: Pick<RowRef, 'group' | 'period'>): { group: string; period: number } {
  return { group: row.group, period: row.period };
}

/**
 * An update of a row: `ADD` of the counts and sums of `totals`, `SET` of the minima and maxima
 * the row lacks, and of the row's aggregation and group fields, with their names and values.
 */
function rowUpdate(row: RowRef, totals: Totals, kinds: ReadonlyMap<string, MeasureKind>): { add: string[]; set: string[]; names: Record<string, string>; values: Record<string, unknown> } {
  const add: string[] = [];
  const set: string[] = ['#agg = :agg'];
  const names: Record<string, string> = { '#agg': 'aggregation' };
  const values: Record<string, unknown> = { ':agg': row.aggregation };
  let i = 0;
  for (const [measure, value] of Object.entries(totals)) {
    const kind = kinds.get(measure);
    names[`#m${i}`] = measure;
    values[`:m${i}`] = value;
    if (kind === 'min' || kind === 'max') set.push(`#m${i} = if_not_exists(#m${i}, :m${i})`);
    else add.push(`#m${i} :m${i}`);
    i++;
  }
  const aggregation = aggregationNamed(row.aggregation);
  aggregation.groupBy.forEach((g, j) => {
    names[`#g${j}`] = g.name;
    values[`:g${j}`] = row.groupValues[j];
    set.push(`#g${j} = :g${j}`);
  });
  return { add, set, names, values };
}

export class AggregatorStore {
  private rowRequests = 0;
  private readonly states: KeyedItems<AggState>;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly stateTable: string,
    private readonly aggregatesTable: string,
  ) {
    this.states = new KeyedItems(db, stateTable, STATE_KEY);
  }

  /** DynamoDB requests made so far. */
  get requests(): number {
    return this.rowRequests + this.states.requests;
  }

  async getStates(keys: readonly string[]): Promise<Map<string, AggState>> {
    return this.states.getAll(keys);
  }

  async putStates(states: readonly AggState[]): Promise<void> {
    await this.states.putAll(states);
  }

  /**
   * Applies every row's delta and resolves with each row as it now stands, including rows a
   * previous attempt had already brought up to date (so their revision is published again).
   */
  async applyRows(rows: readonly RowDelta[], shardId: string, now: number): Promise<AggregationRow[]> {
    return (await mapBounded(rows, ROW_UPDATE_CONCURRENCY, (row) => this.applyRow(row, shardId, now))).flat();
  }

  /**
   * Adds a redrive's signed delta to a row once: the row keeps the redrive's marker, and a row
   * that has it already is left alone (but for its minima and maxima, which it takes again).
   * Resolves with the revisions of the row it made (or the row as it stands), and whether this call changed it.
   */
  async addRedriveDelta(row: RowRef & { delta: Totals }, marker: string, now: number): Promise<{ rows: AggregationRow[]; added: boolean }> {
    const kinds = measureKinds(aggregationNamed(row.aggregation));
    const update = rowUpdate(row, row.delta, kinds);
    const out = await this.updateRowIf(row, {
      UpdateExpression: `ADD ${[...update.add, 'revision :one'].join(', ')} SET ${[...update.set, '#marker = :true', 'updated_at = :now'].join(', ')}`,
      ConditionExpression: 'attribute_not_exists(#marker)',
      ExpressionAttributeNames: { ...update.names, '#marker': marker },
      ExpressionAttributeValues: { ...update.values, ':one': 1, ':true': true, ':now': now },
    });
    const extremes = extremesIn(row.delta, kinds);
    if (out) return { rows: await this.takeExtremes(row, out.Attributes!, extremes, now), added: true };
    // An earlier run added it, and may have stopped before publishing the row: it is read to be published again.
    this.rowRequests++;
    const current = await this.db.send(new GetCommand({ TableName: this.aggregatesTable, Key: rowItemKey(row), ConsistentRead: true }));
    return { rows: await this.takeExtremes(row, current.Item!, extremes, now), added: false };
  }

  /** Writes a state only if the stored one still has the fence it had when read (none: absent). */
  async putStateIfUnchanged(state: AggState, expectedSeq: string | undefined): Promise<boolean> {
    this.rowRequests++;
    const out = await unlessConditionFails(
      this.db.send(
        new PutCommand({
          TableName: this.stateTable,
          Item: state,
          ConditionExpression: expectedSeq === undefined ? `attribute_not_exists(${STATE_KEY})` : 'seq = :expected',
          ...(expectedSeq !== undefined && { ExpressionAttributeValues: { ':expected': expectedSeq } }),
        }),
      ),
    );
    return out !== undefined;
  }

  private async applyRow(row: RowDelta, shardId: string, now: number): Promise<AggregationRow[]> {
    const aggregation = aggregationNamed(row.aggregation);
    const extremes = extremesOf(aggregation, row);
    const first = row.contributions[0].seq;
    // The usual case: nothing of this batch is on the row yet, one conditional update adds it all.
    const added = await unlessConditionFails(this.addToRow(row, shardId, undefined, `attribute_not_exists(#fence) OR #fence < :first`, { ':first': first }, now));
    if (added) return this.takeExtremes(row, added, extremes, now);
    // A previous attempt stored part of this batch: add only what lies above the row's fence.
    this.rowRequests++;
    const current = await this.db.send(new GetCommand({ TableName: this.aggregatesTable, Key: rowItemKey(row), ConsistentRead: true }));
    const stored = current.Item?.[fenceAttribute(shardId)] as string | undefined;
    const updated =
      stored === undefined
        ? await this.addToRow(row, shardId, undefined, 'attribute_not_exists(#fence)', {}, now)
        : await this.addToRow(row, shardId, stored, '#fence = :stored', { ':stored': stored }, now);
    return this.takeExtremes(row, updated ?? current.Item!, extremes, now);
  }

  private async addToRow(
    row: RowDelta,
    shardId: string,
    fence: string | undefined,
    condition: string,
    conditionValues: Record<string, unknown>,
    now: number,
  ): Promise<Record<string, unknown> | undefined> {
    const aggregation = aggregationNamed(row.aggregation);
    const { totals, last } = totalsAbove(aggregation, row, fence);
    if (last === undefined) return undefined;
    this.rowRequests++;
    const update = rowUpdate(row, totals, measureKinds(aggregation));
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.aggregatesTable,
        Key: rowItemKey(row),
        UpdateExpression: `ADD ${[...update.add, 'revision :one'].join(', ')} SET ${[...update.set, '#fence = :last', 'updated_at = :now'].join(', ')}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: { ...update.names, '#fence': fenceAttribute(shardId) },
        ExpressionAttributeValues: { ...conditionValues, ...update.values, ':one': 1, ':last': last, ':now': now },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return out.Attributes!;
  }

  /** A conditional update of a row, resolving with the row it made, or undefined when the condition failed. */
  private async updateRowIf(row: RowRef, input: Pick<UpdateCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>) {
    this.rowRequests++;
    return unlessConditionFails(this.db.send(new UpdateCommand({ TableName: this.aggregatesTable, Key: rowItemKey(row), ReturnValues: 'ALL_NEW', ...input })));
  }

  /**
   * Lowers each minimum (raises each maximum) of `item` that `extremes` betters, each with one
   * conditional update (a concurrent better value wins), and resolves with every revision of the
   * row from `item` on: each update is a revision, and every revision reaches the aggregates feed.
   */
  private async takeExtremes(row: RowRef, item: Record<string, unknown>, extremes: Totals, now: number): Promise<AggregationRow[]> {
    const kinds = measureKinds(aggregationNamed(row.aggregation));
    let current = item;
    const revisions = [feedRowOf(item)];
    for (const [measure, value] of Object.entries(extremes)) {
      const had = current[measure] as number | undefined;
      const min = kinds.get(measure) === 'min';
      if (had !== undefined && (min ? had <= value : had >= value)) continue;
      const out = await this.updateRowIf(row, {
        UpdateExpression: 'SET #m = :v, updated_at = :now ADD revision :one',
        ConditionExpression: `attribute_not_exists(#m) OR #m ${min ? '>' : '<'} :v`,
        ExpressionAttributeNames: { '#m': measure },
        ExpressionAttributeValues: { ':v': value, ':now': now, ':one': 1 },
      });
      if (out) {
        current = out.Attributes!;
        revisions.push(feedRowOf(current));
      }
    }
    return revisions;
  }
}

/** The minima and maxima of a redrive's delta. */
function extremesIn(delta: Totals, kinds: ReadonlyMap<string, MeasureKind>): Totals {
  return Object.fromEntries(Object.entries(delta).filter(([m]) => kinds.get(m) === 'min' || kinds.get(m) === 'max'));
}
