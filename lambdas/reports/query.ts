/** Reads a campaign's aggregate rows from DynamoDB, every page, in period order. */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { COUNTERS, groupKey, totalsOf, zeroTotals, type Totals } from '../../schemas/aggregates';
import { CAMPAIGNS_AGGREGATION } from '../../pipelines/adtech-rows';

export type PeriodCounts = { period: number } & Totals;

/** Rows of a campaign whose window starts in [from, to). */
export async function campaignRows(
  db: DynamoDBDocumentClient,
  table: string,
  campaignItemId: number,
  range: { from?: number; to?: number } = {},
): Promise<PeriodCounts[]> {
  const rows: PeriodCounts[] = [];
  if (range.from !== undefined && range.to !== undefined && range.to <= range.from) return rows;
  // Rows are keyed by their aggregation's group (schemas/aggregates.ts).
  const names: Record<string, string> = { '#c': 'group', '#p': 'period' };
  const values: Record<string, unknown> = { ':c': groupKey(CAMPAIGNS_AGGREGATION, [campaignItemId]), ':from': range.from ?? 0, ':last': (range.to ?? Number.MAX_SAFE_INTEGER) - 1 };
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#c = :c AND #p BETWEEN :from AND :last',
        ProjectionExpression: ['#p', ...COUNTERS].join(', '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) rows.push({ period: item.period as number, ...totalsOf(item) });
    start = out.LastEvaluatedKey;
  } while (start);
  return rows;
}

export function sumCounts(rows: readonly Totals[]): Totals {
  const total = zeroTotals();
  for (const r of rows) for (const c of COUNTERS) total[c] += r[c];
  return total;
}
