/**
 * Reports API: GET /reports/campaigns/{campaign_item_id} answers a campaign's totals and its
 * per-window rows. A campaign with no events yet answers 200 with zero counts: campaign ids are
 * not registered anywhere, so "nothing counted yet" is the truthful answer, not "not found".
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { resourceName, tables } from '../../schemas/resources';
import { dynamo } from '../commons/clients';
import { error, json } from '../commons/http';
import { campaignRows, sumCounts } from './query';

export function parseCampaignId(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d{1,15}$/.test(raw)) return undefined;
  return Number(raw);
}

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const raw = event.pathParameters?.campaign_item_id;
  const campaignItemId = parseCampaignId(raw);
  if (campaignItemId === undefined) {
    return error(400, `campaign_item_id must be a non-negative integer, got "${raw ?? ''}"`, { field: 'campaign_item_id' });
  }
  const periods = await campaignRows(dynamo(), resourceName(tables.aggregates), campaignItemId);
  return json(200, { campaign_item_id: campaignItemId, ...sumCounts(periods), periods });
}
