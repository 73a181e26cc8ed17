/**
 * Reads a group's rows of a declared aggregation from the aggregates table, every page, in period
 * order. The row layout is contract 1 of issue 19 (schemas/aggregates.ts groupKey): key `group`
 * (S) = groupKey(aggregation, group values in groupBy order) and `period` (N, window start, epoch
 * seconds); each measure and `late_events` under its own name.
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { groupKey } from '../../schemas/aggregates';
import type { AggregationSpec, FieldValue } from '../../schemas/pipeline';
import { valueNames } from './measures';

/** The aggregates table's key attributes (contract 1). */
export const ROW_KEY = { group: 'group', period: 'period' } as const;

/** A stored window row as the reports read it: its start, and its measures and late_events (absent: none). */
export type WindowRow = { period: number } & Record<string, number | undefined>;

/** Rows of one group whose window starts in [from, to). */
export async function groupRows(
  db: DynamoDBDocumentClient,
  table: string,
  aggregation: AggregationSpec,
  values: readonly FieldValue[],
  range: { from?: number; to?: number } = {},
): Promise<WindowRow[]> {
  const rows: WindowRow[] = [];
  if (range.from !== undefined && range.to !== undefined && range.to <= range.from) return rows;
  const measures = valueNames(aggregation);
  // Measure names are declared by users: every one goes through a placeholder (`group` is also a DynamoDB reserved word).
  const names: Record<string, string> = { '#g': ROW_KEY.group, '#p': ROW_KEY.period };
  measures.forEach((m, i) => (names[`#m${i}`] = m));
  const exprValues: Record<string, unknown> = { ':g': groupKey(aggregation.name, values), ':from': range.from ?? 0, ':last': (range.to ?? Number.MAX_SAFE_INTEGER) - 1 };
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#g = :g AND #p BETWEEN :from AND :last',
        ProjectionExpression: ['#p', ...measures.map((_, i) => `#m${i}`)].join(', '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: exprValues,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const row: WindowRow = { period: item.period as number };
      for (const m of measures) row[m] = typeof item[m] === 'number' ? (item[m] as number) : undefined;
      rows.push(row);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return rows;
}
