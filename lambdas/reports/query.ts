/** Reads a campaign's aggregate rows from DynamoDB, every page, in period order. */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface PeriodCounts {
  period: number;
  bids: number;
  impressions: number;
  clicks: number;
}

export async function campaignRows(
  db: DynamoDBDocumentClient,
  table: string,
  campaignItemId: number,
  range: { from?: number; to?: number } = {},
): Promise<PeriodCounts[]> {
  const rows: PeriodCounts[] = [];
  const names: Record<string, string> = { '#c': 'campaign_item_id', '#p': 'period' };
  const values: Record<string, unknown> = { ':c': campaignItemId };
  let condition = '#c = :c';
  if (range.from !== undefined && range.to !== undefined) {
    condition += ' AND #p BETWEEN :from AND :to';
    Object.assign(values, { ':from': range.from, ':to': range.to });
  } else if (range.from !== undefined) {
    condition += ' AND #p >= :from';
    values[':from'] = range.from;
  } else if (range.to !== undefined) {
    condition += ' AND #p <= :to';
    values[':to'] = range.to;
  }
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: condition,
        ProjectionExpression: '#p, bids, impressions, clicks',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      rows.push({ period: item.period, bids: item.bids ?? 0, impressions: item.impressions ?? 0, clicks: item.clicks ?? 0 });
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return rows;
}

export function sumCounts(rows: readonly PeriodCounts[]): Omit<PeriodCounts, 'period'> {
  const total = { bids: 0, impressions: 0, clicks: 0 };
  for (const r of rows) {
    total.bids += r.bids;
    total.impressions += r.impressions;
    total.clicks += r.clicks;
  }
  return total;
}
