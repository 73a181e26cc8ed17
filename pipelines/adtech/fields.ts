/**
 * Ad-tech's own field limits: a campaign id is a numeric id (schemas/fields.ts), under the name the
 * bid stream, the reports route and the prediction requests give it. FIELD_LIMITS here is the
 * core's plus `campaignItemId`, for the tests that walk every limit.
 */
import { FIELD_LIMITS as CORE_LIMITS, numericId, numericIdFromDigits } from '../../schemas/fields';

export const FIELD_LIMITS = { ...CORE_LIMITS, campaignItemId: CORE_LIMITS.numericId } as const;

/** A campaign id as a JSON number. */
export const campaignItemId = numericId;

/** A campaign id written as decimal digits: the number it names within the limits, else undefined. */
export const campaignItemIdFromDigits = numericIdFromDigits;
