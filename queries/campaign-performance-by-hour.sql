-- Campaign performance by hour (UTC): bids, impressions, clicks, click-through and win rates per
-- campaign, from the latest revision of every (campaign, window) aggregate row.
WITH latest AS (
  SELECT campaign_item_id, period_start, bids, impressions, clicks,
         row_number() OVER (PARTITION BY campaign_item_id, period ORDER BY revision DESC) AS rn
  FROM parquet_aggregates
)
SELECT campaign_item_id,
       date_trunc('hour', period_start) AS hour,
       sum(bids) AS bids,
       sum(impressions) AS impressions,
       sum(clicks) AS clicks,
       round(CAST(sum(clicks) AS double) / nullif(sum(impressions), 0), 4) AS ctr,
       round(CAST(sum(impressions) AS double) / nullif(sum(bids), 0), 4) AS win_rate
FROM latest
WHERE rn = 1
GROUP BY campaign_item_id, date_trunc('hour', period_start)
ORDER BY campaign_item_id, hour
