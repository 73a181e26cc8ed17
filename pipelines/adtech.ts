/**
 * The ad-tech blueprint as a declared pipeline: bids, impressions and clicks posted to /bid,
 * /impression and /click, one of each per auction (`tx_id`); per campaign and minute, the bids,
 * and the impressions and clicks joined to their bid in any arrival order, with click-through and
 * win rates on read: `GET /reports/campaigns/{campaign_item_id}`.
 */
import { count, definePipeline, ratio } from '../schemas/pipeline';
import { bidSchema, clickSchema, impressionSchema } from './adtech/events';
import { auctionsTable } from '../lambdas/ml/auction-rows';

const auctionEvent = { identity: ['tx_id'], partitionKey: 'tx_id', eventTime: 'timestamp' } as const;

export default definePipeline({
  name: 'adtech',
  description: 'ad-tech: bids, impressions and clicks joined per auction, counted per campaign and minute',
  // The lake's `bcns` table holds every event with its type; `auctions` joins each bid with its outcome.
  eventsTable: 'bcns',
  // The bid-win model (lambdas/ml): POST /predictions, GET /models/current and its retraining.
  model: 'bid-win',
  lakeTables: { auctions: auctionsTable },
  streams: {
    bid: { ...auctionEvent, schema: bidSchema, lakeTable: 'bids', description: 'bid requests: one per auction (tx_id), naming its campaign', example: { tx_id: 't1', app_uid: 'u1', campaign_item_id: 42 } },
    impression: { ...auctionEvent, schema: impressionSchema, lakeTable: 'impressions', description: 'won auctions: the bid shown, at its clearing price' },
    click: { ...auctionEvent, schema: clickSchema, lakeTable: 'clicks', description: 'clicks on a shown bid' },
  },
  aggregations: {
    campaigns: {
      stream: 'bid',
      join: { key: 'tx_id', streams: ['impression', 'click'] },
      groupBy: ['campaign_item_id'],
      periodSeconds: 60,
      measures: { bids: count(), impressions: count('impression'), clicks: count('click') },
      derived: { ctr: ratio('clicks', 'impressions'), win_rate: ratio('impressions', 'bids') },
      lakeTable: 'aggregates',
      description: 'per campaign and minute: bids, and the impressions and clicks of those bids',
    },
  },
});
