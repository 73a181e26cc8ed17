/**
 * The blueprint's events (bid, impression, click): the single source of their TypeScript types,
 * of the ingestion API's validation, and of the record the ingestion API puts on the stream.
 *
 * Client events are parsed leniently about fields they may not set (`type`, `received_at`,
 * `event_time` and unknown keys are dropped, never a reason to reject) and strictly about the
 * fields they must get right.
 */
import { z } from 'zod';
import { clientTimestamp, id, price, text } from '../../schemas/fields';
import { campaignItemId } from './fields';

export const EVENT_TYPES = ['bid', 'impression', 'click'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

// Field limits (ids, text, prices) are defined once, in schemas/fields.ts; campaign ids in ./fields.
const optionalText = text().optional();

export { clientTimestamp } from '../../schemas/fields';

const common = { tx_id: id(), timestamp: clientTimestamp.optional() };

export const bidSchema = z.object({
  ...common,
  app_uid: id(),
  campaign_item_id: campaignItemId(),
  domain: optionalText,
  creative_id: optionalText,
  creative_category: optionalText,
  win_price: price().optional(),
});

export const impressionSchema = z.object({ ...common, win_price: price() });

export const clickSchema = z.object({ ...common });

export const clientEventSchemas = {
  bid: bidSchema,
  impression: impressionSchema,
  click: clickSchema,
} as const satisfies Record<EventType, z.ZodType>;

export type BidInput = z.infer<typeof bidSchema>;
export type ImpressionInput = z.infer<typeof impressionSchema>;
export type ClickInput = z.infer<typeof clickSchema>;

/** Fields the platform adds to every event before it goes on the stream (a type, not an interface, so events are stream records: schemas/stream-record.ts). */
export type ServerFields = {
  /** Event type, from the route it was posted to. */
  type: EventType;
  /** When the API received the event, epoch milliseconds. */
  received_at: number;
  /** When the event happened, epoch milliseconds: the client timestamp if plausible, else received_at. */
  event_time: number;
};

export type StreamEvent =
  | (BidInput & ServerFields & { type: 'bid' })
  | (ImpressionInput & ServerFields & { type: 'impression' })
  | (ClickInput & ServerFields & { type: 'click' });

/** The stream record schema, used by consumers to decode what the ingestion API wrote. */
export const streamEventSchema = z.discriminatedUnion('type', [
  bidSchema.extend({ type: z.literal('bid'), received_at: z.number(), event_time: z.number() }),
  impressionSchema.extend({ type: z.literal('impression'), received_at: z.number(), event_time: z.number() }),
  clickSchema.extend({ type: z.literal('click'), received_at: z.number(), event_time: z.number() }),
]);
