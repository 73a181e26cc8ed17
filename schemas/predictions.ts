/**
 * POST /predictions: the bid-win model's request (one auction, or an array of them) and answer.
 * Field names follow the blueprint's prediction API (camelCase); the featurizer takes the lake's
 * names, so `toAuctionFeatures` maps one to the other.
 */
import { z } from 'zod';

const text = z.string().max(256);

export const predictionRequestSchema = z.object({
  campaignItemId: z.union([z.string().trim().min(1).max(64), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)]),
  domain: text.optional(),
  creativeId: text.optional(),
  creativeCategory: text.optional(),
  /** The bid price whose chance of winning is asked for. */
  winPrice: z.number().finite().min(0).max(1_000_000_000_000),
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
  const id = typeof r.campaignItemId === 'string' && /^\d+$/.test(r.campaignItemId) ? Number(r.campaignItemId) : r.campaignItemId;
  return { campaign_item_id: id, domain: r.domain ?? null, creative_id: r.creativeId ?? null, creative_category: r.creativeCategory ?? null, bid_price: r.winPrice };
}
