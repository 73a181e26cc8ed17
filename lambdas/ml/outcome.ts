/**
 * When an auction's outcome is known, and what it is: the ONE rule, shared by training in both homes
 * (the local trainer on DuckDB, the retraining state machine's Athena training set), the `auctions`
 * table compaction builds, and the win-rate saved query.
 *
 * The rule (by event time, the time each event happened):
 * - an auction is WON when an impression with its tx_id has an event time within ±OUTCOME_WINDOW_MS
 *   (5 minutes, both ends included) of its bid's event time; otherwise it is LOST;
 * - its outcome is KNOWN once the bid's event time is at least OUTCOME_WINDOW_MS before the run's
 *   reference instant (`knownBefore`: the training run's start; in AWS the state machine
 *   execution's start time, so every attempt of one execution reads the same auctions). Training
 *   reads only known auctions, so it need not wait for an hour to close.
 * - An impression outside the window never makes a win (nor do duplicates count twice: any one
 *   impression in the window is enough). An impression inside the window that reaches the lake only
 *   after a run used the auction as lost changes nothing already trained; the next run labels the
 *   auction won (the label is a function of the lake's events, so retraining on the same lake is
 *   reproducible). Bids and impressions are read from the lake's bids and impressions tables
 *   directly (Parquet), not from the hourly `auctions` table.
 * - Training reads the bids of the last TRAINING_HORIZON_DAYS (30) before the run's reference
 *   instant, and only the date partitions (`dt`) that can hold them or their impressions: the
 *   model follows the recent market, and a run's scan (Athena bills per byte scanned) and time stay
 *   bounded however long the lake grows.
 */

/** Half-width of the window around the bid's event time in which an impression makes a win. */
export const OUTCOME_WINDOW_MS = 5 * 60_000;
const WINDOW_MINUTES = OUTCOME_WINDOW_MS / 60_000;

/** How far back from the run's reference instant training reads bids. */
export const TRAINING_HORIZON_DAYS = 30;

/** True when `impressionTime` falls in the bid's window (both ends included). */
export function inOutcomeWindow(bidTime: number, impressionTime: number): boolean {
  return Math.abs(impressionTime - bidTime) <= OUTCOME_WINDOW_MS;
}

/** The impression (of the bid's tx_id) that makes the auction won, if any: the first in the window. */
export function winningImpression<I extends { event_time: number }>(bidTime: number, impressions: readonly I[]): I | undefined {
  return impressions.find((i) => inOutcomeWindow(bidTime, i.event_time));
}

/** True when the bid's outcome is known at `knownBefore` (epoch ms): the whole window has passed. */
export function isOutcomeKnown(bidTime: number, knownBefore: number): boolean {
  return bidTime + OUTCOME_WINDOW_MS <= knownBefore;
}

// ---------------------------------------------------------------------------------------------
// The same rule in SQL, valid for Athena (Trino) and DuckDB alike.

/** A SQL TIMESTAMP literal (UTC wall time, milliseconds) of an instant: Trino and DuckDB read it alike. */
export function sqlTimestamp(ms: number): string {
  return `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`;
}

/** The SQL condition "impression `i` is in the window of bid `b`" (aliases given). */
export function sqlInOutcomeWindow(bid = 'b', impression = 'i'): string {
  return `${impression}.event_time BETWEEN ${bid}.event_time - INTERVAL '${WINDOW_MINUTES}' MINUTE AND ${bid}.event_time + INTERVAL '${WINDOW_MINUTES}' MINUTE`;
}

export interface KnownAuctionsSql {
  /** The bids table, e.g. parquet_bids. */
  bids: string;
  /** The impressions table, e.g. parquet_impressions. */
  impressions: string;
  /** A SQL expression of type timestamp: the run's reference instant (see `sqlTimestamp`). */
  knownBefore: string;
}

/**
 * SELECT of the known auctions, one row per distinct bid (the earliest received copy): tx_id, the
 * bid's features (campaign_item_id, domain, creative_id, creative_category, bid_price = the bid's
 * win_price), event_time and `won` by the rule.
 */
export function knownAuctionsSql(t: KnownAuctionsSql): string {
  // A LEFT JOIN on tx_id and the window, grouped back to one row per bid: both engines plan it as
  // a hash join (a correlated EXISTS with a range condition is not decorrelated by every engine).
  const columns = 'b.tx_id, b.campaign_item_id, b.domain, b.creative_id, b.creative_category, b.bid_price, b.event_time';
  const horizon = `${t.knownBefore} - INTERVAL '${TRAINING_HORIZON_DAYS}' DAY`;
  // The `dt` partition (the UTC date of event_time, 'YYYY-MM-DD') of an instant: a date cast to
  // text is that form in both engines, so the partitions before it are never read.
  const partitionOf = (instant: string) => `CAST(CAST(${instant} AS DATE) AS VARCHAR)`;
  return [
    `SELECT ${columns}, count(i.tx_id) > 0 AS won`,
    'FROM (',
    '  SELECT tx_id, campaign_item_id, domain, creative_id, creative_category, win_price AS bid_price, event_time,',
    '    row_number() OVER (PARTITION BY tx_id ORDER BY received_at, event_time) AS copy',
    `  FROM ${t.bids}`,
    `  WHERE tx_id IS NOT NULL AND dt >= ${partitionOf(horizon)}`,
    `    AND event_time > ${horizon} AND event_time <= ${t.knownBefore} - INTERVAL '${WINDOW_MINUTES}' MINUTE`,
    ') b',
    'LEFT JOIN (',
    `  SELECT tx_id, event_time FROM ${t.impressions} WHERE dt >= ${partitionOf(`${horizon} - INTERVAL '${WINDOW_MINUTES}' MINUTE`)}`,
    `) i ON i.tx_id = b.tx_id AND ${sqlInOutcomeWindow('b', 'i')}`,
    'WHERE b.copy = 1',
    `GROUP BY ${columns}`,
  ].join('\n');
}
