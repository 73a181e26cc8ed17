-- Late events per campaign and day (UTC): events that arrived more than the allowed lateness
-- (ALLOWED_LATENESS_SECONDS, 3600 s) after their event time, which the aggregator counts as late
-- (not in their window's counts), beside the on-time events of those days; from the lake's events,
-- each under its bid's campaign (joined by tx_id) and in the day of its own event time.
WITH counted AS (
  SELECT campaign_item_id, event_time, received_at
  FROM parquet_bids
  UNION ALL
  SELECT b.campaign_item_id, i.event_time, i.received_at
  FROM parquet_impressions i JOIN parquet_bids b ON b.tx_id = i.tx_id
  UNION ALL
  SELECT b.campaign_item_id, c.event_time, c.received_at
  FROM parquet_clicks c JOIN parquet_bids b ON b.tx_id = c.tx_id
),
marked AS (
  SELECT campaign_item_id,
         date_trunc('day', event_time) AS day,
         CASE WHEN received_at > event_time + INTERVAL '3600' SECOND THEN 1 ELSE 0 END AS late
  FROM counted
)
SELECT campaign_item_id,
       day,
       sum(late) AS late_events,
       sum(1 - late) AS on_time_events
FROM marked
GROUP BY campaign_item_id, day
HAVING sum(late) > 0
ORDER BY day, campaign_item_id
