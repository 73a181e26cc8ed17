/**
 * The ad-tech pipeline's `auctions` lake table (declared in pipelines/adtech.ts as a built table,
 * schemas/pipeline.ts LakeTableDeclaration): one row per bid joined with its outcome, built by
 * compaction for every closed hour of bids from the bids of the hour and the impressions and clicks
 * of it and the hours after. Its columns and rows live here, with the ad-tech model, so the lake
 * writer and compaction run it without knowing what an auction is.
 */
import { bidSchema, impressionSchema, type StreamEvent } from '../../pipelines/adtech/events';
import { columnsOfShape, lakeTypeOf, projectRow, type LakeColumn, type LakeRow } from '../../schemas/lake';
import type { LakeTableDeclaration } from '../../schemas/pipeline';
import type { StreamRecord } from '../../schemas/stream-record';
import { winningImpression } from './outcome';

/** The bid's columns in an auction row, renamed where the auction gives them a clearer name. */
const AUCTION_RENAMES: Readonly<Record<string, string>> = { win_price: 'bid_price' };

function auctionsColumns(): LakeColumn[] {
  const { timestamp: _clientTime, ...bidFields } = bidSchema.shape;
  const bid = columnsOfShape(bidFields).map((c) => ({ ...c, name: AUCTION_RENAMES[c.name] ?? c.name }));
  const clearing = lakeTypeOf('win_price', impressionSchema.shape.win_price);
  return [
    ...bid,
    { name: 'won', type: 'boolean', nullable: false, comment: 'an impression within 5 minutes of the bid (lambdas/ml/outcome.ts)' },
    { name: 'clearing_price', type: clearing.type, nullable: true, comment: "the impression's win_price" },
    { name: 'clicked', type: 'boolean', nullable: false, comment: 'a click was seen for the bid' },
    { name: 'event_time', type: 'timestamp', nullable: false, comment: "the bid's event time" },
    { name: 'impression_time', type: 'timestamp', nullable: true, comment: "the impression's event time" },
    { name: 'click_time', type: 'timestamp', nullable: true, comment: "the click's event time" },
  ];
}

export const AUCTIONS_COLUMNS: readonly LakeColumn[] = auctionsColumns();

/**
 * `auctions` rows: one per distinct bid, joined by tx_id with its click (the first when repeated)
 * and, by the shared outcome rule (lambdas/ml/outcome.ts), its impression: the auction is won when
 * an impression of its tx_id has an event time within ±5 minutes of the bid's. Impressions and
 * clicks without a bid give no row. Rows follow the bids' order; repeated events (same type and
 * tx_id) count once, the first kept.
 */
export function auctionRows(records: readonly StreamRecord[] | readonly StreamEvent[]): LakeRow[] {
  const impressions = new Map<string, Extract<StreamEvent, { type: 'impression' }>[]>();
  const clicks = new Map<string, Extract<StreamEvent, { type: 'click' }>>();
  const bids: Extract<StreamEvent, { type: 'bid' }>[] = [];
  const seen = new Set<string>();
  for (const e of records as readonly StreamEvent[]) {
    const key = `${e.type}\u0000${e.tx_id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (e.type === 'bid') bids.push(e);
    else if (e.type === 'impression') impressions.set(e.tx_id, [...(impressions.get(e.tx_id) ?? []), e]);
    else if (e.type === 'click') clicks.set(e.tx_id, e);
  }
  return bids.map((bid) => {
    const imp = winningImpression(bid.event_time, impressions.get(bid.tx_id) ?? []);
    const click = clicks.get(bid.tx_id);
    return projectRow(AUCTIONS_COLUMNS, {
      ...bid,
      bid_price: bid.win_price,
      won: imp !== undefined,
      clearing_price: imp?.win_price,
      clicked: click !== undefined,
      impression_time: imp?.event_time,
      click_time: click?.event_time,
    });
  });
}

/** The declaration of the table (pipelines/adtech.ts `lakeTables.auctions`). */
export const auctionsTable: LakeTableDeclaration = {
  description: 'one row per bid joined with its outcome (won, clearing price, clicked)',
  columns: AUCTIONS_COLUMNS,
  stream: 'bid',
  joins: ['impression', 'click'],
  rows: auctionRows,
};
