-- Campaign performance by hour (UTC): bids, impressions, clicks, click-through and win rates per
-- campaign, counted from the lake's events as the aggregator counts the reports: each auction's
-- bid, impression and click once (the lake holds each once), under its bid's campaign (joined by
-- tx_id; an impression or click whose bid never came is not counted), in the hour of its own event
-- time; an event that arrived more than the allowed lateness (ALLOWED_LATENESS_SECONDS, 3600 s)
-- after its event time is not counted here (late-events counts it), its hour still listed.
WITH counted AS (
  SELECT campaign_item_id, event_time, received_at, 'bid' AS type
  FROM parquet_bids
  UNION ALL
  SELECT b.campaign_item_id, i.event_time, i.received_at, 'impression'
  FROM parquet_impressions i JOIN parquet_bids b ON b.tx_id = i.tx_id
  UNION ALL
  SELECT b.campaign_item_id, c.event_time, c.received_at, 'click'
  FROM parquet_clicks c JOIN parquet_bids b ON b.tx_id = c.tx_id
),
on_time AS (
  SELECT campaign_item_id,
         date_trunc('hour', event_time) AS hour,
         CASE WHEN type = 'bid' AND received_at <= event_time + INTERVAL '3600' SECOND THEN 1 ELSE 0 END AS bid,
         CASE WHEN type = 'impression' AND received_at <= event_time + INTERVAL '3600' SECOND THEN 1 ELSE 0 END AS impression,
         CASE WHEN type = 'click' AND received_at <= event_time + INTERVAL '3600' SECOND THEN 1 ELSE 0 END AS click
  FROM counted
)
SELECT campaign_item_id,
       hour,
       sum(bid) AS bids,
       sum(impression) AS impressions,
       sum(click) AS clicks,
       round(CAST(sum(click) AS double) / nullif(sum(impression), 0), 4) AS ctr,
       round(CAST(sum(impression) AS double) / nullif(sum(bid), 0), 4) AS win_rate
FROM on_time
GROUP BY campaign_item_id, hour
ORDER BY campaign_item_id, hour
