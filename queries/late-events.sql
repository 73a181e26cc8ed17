-- Late events per campaign and day (UTC): events that arrived later than the allowed lateness,
-- kept in the lake but not in their window's counts, beside the on-time events of those windows.
WITH latest AS (
  SELECT campaign_item_id, period_start, bids, impressions, clicks, late_events,
         row_number() OVER (PARTITION BY campaign_item_id, period ORDER BY revision DESC) AS rn
  FROM parquet_aggregates
)
SELECT campaign_item_id,
       date_trunc('day', period_start) AS day,
       sum(late_events) AS late_events,
       sum(bids + impressions + clicks) AS on_time_events
FROM latest
WHERE rn = 1
GROUP BY campaign_item_id, date_trunc('day', period_start)
HAVING sum(late_events) > 0
ORDER BY day, campaign_item_id
