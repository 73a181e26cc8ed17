/**
 * Reports API.
 * - GET /reports/campaigns/{campaign_item_id}: a campaign's totals and its per-window rows.
 * - GET /reports/campaigns/{campaign_item_id}/period?period=&timezone=&from=&to=&desc=: the rows
 *   summed per hour, day, week, month or year of a time zone.
 * Every row carries click-through and win rates, computed here, never stored. A campaign with no
 * events yet answers 200 with zero counts: campaign ids are not registered anywhere, so "nothing
 * counted yet" is the truthful answer, not "not found".
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { resourceName, tables } from '../../schemas/resources';
import type { Totals } from '../../schemas/aggregates';
import { campaignItemIdFromDigits, FIELD_LIMITS } from '../../schemas/fields';
import { dynamo } from '../commons/clients';
import { error, json, readableFromAnyOrigin } from '../commons/http';
import { campaignRows, sumCounts } from './query';
import { derivedMetrics, rollUp } from './rollup';
import { parseRollupParams } from './rollup-params';

/** The path's campaign id, within the limits the ingestion API accepts (schemas/fields.ts). */
export function parseCampaignId(raw: string | undefined): number | undefined {
  return campaignItemIdFromDigits(raw);
}

const withRates = <T extends Totals>(row: T) => ({ ...row, ...derivedMetrics(row) });

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return readableFromAnyOrigin(await report(event));
}

async function report(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const raw = event.pathParameters?.campaign_item_id;
  const campaignItemId = parseCampaignId(raw);
  if (campaignItemId === undefined) {
    return error(400, `campaign_item_id must be an integer from ${FIELD_LIMITS.campaignItemId.min} to ${FIELD_LIMITS.campaignItemId.max}, got "${raw ?? ''}"`, { field: 'campaign_item_id' });
  }
  const table = resourceName(tables.aggregates);

  if (!(event.resource ?? event.path).endsWith('/period')) {
    const periods = await campaignRows(dynamo(), table, campaignItemId);
    return json(200, { campaign_item_id: campaignItemId, ...withRates(sumCounts(periods)), periods: periods.map(withRates) });
  }

  const parsed = parseRollupParams(event.queryStringParameters);
  if (!parsed.ok) return error(400, parsed.message, { field: parsed.field });
  const { unit, timezone, from, to, desc } = parsed.params;
  const periods = await campaignRows(dynamo(), table, campaignItemId, { from, to });
  const rows = rollUp(periods, unit, timezone, { desc });
  return json(200, {
    campaign_item_id: campaignItemId,
    period: unit,
    timezone,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...withRates(sumCounts(periods)),
    rows: rows.map(withRates),
  });
}
