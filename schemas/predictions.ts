/**
 * POST /predictions: the bid-win model's request (one auction, or an array of them) and answer.
 * Field names follow the blueprint's prediction API (camelCase); the featurizer takes the lake's
 * names, so `toAuctionFeatures` maps one to the other.
 */
import { z } from 'zod';
import { id, text } from './fields';
import { campaignItemId, campaignItemIdFromDigits, FIELD_LIMITS } from '../pipelines/adtech/fields';

/** The models a pipeline can declare (PipelineDeclaration.model): ad-tech's bid-win model, the one shipped. */
export type ModelName = 'bid-win';

/**
 * A campaign id as the ingestion API takes it (a number), or as text: text of decimal digits must
 * name a campaign id within the same limits (else it would round to another campaign's id).
 */
const campaignItemIdOrText = z.union([
  campaignItemId(),
  id().refine((s) => !/^\d+$/.test(s) || campaignItemIdFromDigits(s) !== undefined, {
    message: `a campaign id written in digits must be at most ${FIELD_LIMITS.campaignItemId.max}`,
  }),
]);

export const predictionRequestSchema = z.object({
  campaignItemId: campaignItemIdOrText,
  domain: text().optional(),
  creativeId: text().optional(),
  creativeCategory: text().optional(),
  /** The bid price whose chance of winning is asked for (the price limits; fractions allowed). */
  winPrice: z.number().finite().min(FIELD_LIMITS.price.min).max(FIELD_LIMITS.price.max),
});

export type PredictionRequest = z.infer<typeof predictionRequestSchema>;

export const MAX_PREDICTIONS_PER_REQUEST = 1000;

export interface Prediction {
  /** P(win) at this price. */
  score: number;
  /** 1 when score ≥ 0.5. */
  predicted_label: 0 | 1;
}

/** The lake's names for the same auction features (lambdas/ml/features.ts). */
export function toAuctionFeatures(r: PredictionRequest) {
  const id = typeof r.campaignItemId === 'string' ? (campaignItemIdFromDigits(r.campaignItemId) ?? r.campaignItemId) : r.campaignItemId;
  return { campaign_item_id: id, domain: r.domain ?? null, creative_id: r.creativeId ?? null, creative_category: r.creativeCategory ?? null, bid_price: r.winPrice };
}
