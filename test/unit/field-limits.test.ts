/**
 * One set of limits (schemas/fields.ts): walks each bounded field's minimum and maximum and checks
 * that every route taking the field agrees at the edges: what ingestion accepts, the reports route
 * can read and predictions take; one past the edge, all of them refuse.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { bidSchema, impressionSchema } from '../../pipelines/adtech/events';
import { FIELD_LIMITS } from '../../pipelines/adtech/fields';
import { predictionRequestSchema, toAuctionFeatures } from '../../schemas/predictions';
import { handler as reports } from '../../lambdas/reports/handler';
import { parseGroupParams } from '../../lambdas/reports/group-params';
import { aggregationOf } from '../../schemas/pipeline';
import { activePipeline } from '../../schemas/active-pipeline';

/** The campaign id as the report route's group parser reads it, or undefined when it refuses it. */
function parseCampaignId(raw: string): number | undefined {
  const parsed = parseGroupParams(aggregationOf(activePipeline(), 'campaigns'), { campaign_item_id: raw });
  return parsed.ok ? (parsed.values[0] as number) : undefined;
}

const bid = (extra: Record<string, unknown>) => ({ tx_id: 't', app_uid: 'u', campaign_item_id: 1, ...extra });
const prediction = (extra: Record<string, unknown>) => ({ campaignItemId: 1, winPrice: 1, ...extra });
const accepts = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) => schema.safeParse(value).success;

describe('campaign_item_id', () => {
  const { min, max } = FIELD_LIMITS.campaignItemId;
  const edges = [
    ['the minimum', min, true],
    ['the maximum', max, true],
    ['one below the minimum', min - 1, false],
    ['one past the maximum', max + 1, false],
  ] as const;

  it.each(edges)('at %s (%d): ingestion, reports and predictions agree', (_, value, ok) => {
    expect(accepts(bidSchema, bid({ campaign_item_id: value }))).toBe(ok);
    expect(parseCampaignId(String(value))).toBe(ok ? value : undefined);
    expect(accepts(predictionRequestSchema, prediction({ campaignItemId: value }))).toBe(ok);
    // Predictions also take the id as text of digits (never a negative one).
    if (value >= 0) expect(accepts(predictionRequestSchema, prediction({ campaignItemId: String(value) }))).toBe(ok);
  });

  it('reads back exactly the id ingestion accepted, even at the maximum', () => {
    expect(parseCampaignId(String(max))).toBe(max);
    const parsed = predictionRequestSchema.parse(prediction({ campaignItemId: String(max) }));
    expect(toAuctionFeatures(parsed).campaign_item_id).toBe(max);
  });

  it('refuses digits past 2^53 that would round to an accepted id, in the reports and predictions alike', () => {
    const rounded = '9007199254740993'; // Number() rounds it to 2^53
    expect(parseCampaignId(rounded)).toBeUndefined();
    expect(accepts(predictionRequestSchema, prediction({ campaignItemId: rounded }))).toBe(false);
    expect(parseCampaignId('99999999999999999999')).toBeUndefined();
  });

  it('answers the report route 400 past the maximum, naming the field and the limits', async () => {
    const res = await reports({ pathParameters: { campaign_item_id: String(max + 1) }, resource: '/reports/campaigns/{campaign_item_id}' } as unknown as APIGatewayProxyEvent);
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ field: 'campaign_item_id', error: expect.stringContaining(String(max)) });
  });
});

describe('prices', () => {
  const { min, max } = FIELD_LIMITS.price;
  it.each([
    [min, true],
    [max, true],
    [min - 1, false],
    [max + 1, false],
  ])('win_price %d: bids, impressions and predictions agree (%s)', (value, ok) => {
    expect(accepts(bidSchema, bid({ win_price: value }))).toBe(ok);
    expect(accepts(impressionSchema, { tx_id: 't', win_price: value })).toBe(ok);
    expect(accepts(predictionRequestSchema, prediction({ winPrice: value }))).toBe(ok);
  });
});

describe('text', () => {
  const { max } = FIELD_LIMITS.textLength;
  const ingestionText = ['tx_id', 'app_uid', 'domain', 'creative_id', 'creative_category'];
  const predictionText = ['domain', 'creativeId', 'creativeCategory'];

  it.each([
    [max, true],
    [max + 1, false],
  ])('%d characters: every text field of ingestion and predictions agrees (%s)', (length, ok) => {
    const s = 'x'.repeat(length);
    for (const field of ingestionText) expect({ field, ok: accepts(bidSchema, bid({ [field]: s })) }).toEqual({ field, ok });
    for (const field of predictionText) expect({ field, ok: accepts(predictionRequestSchema, prediction({ [field]: s })) }).toEqual({ field, ok });
    expect(accepts(predictionRequestSchema, prediction({ campaignItemId: s }))).toBe(ok);
  });

  it('refuses a lone surrogate in every text field of ingestion and predictions', () => {
    for (const field of ingestionText) expect({ field, ok: accepts(bidSchema, bid({ [field]: 'a\ud800' })) }).toEqual({ field, ok: false });
    for (const field of predictionText) expect({ field, ok: accepts(predictionRequestSchema, prediction({ [field]: '\udfff' })) }).toEqual({ field, ok: false });
    expect(accepts(predictionRequestSchema, prediction({ campaignItemId: 'c\ud800' }))).toBe(false);
  });
});
