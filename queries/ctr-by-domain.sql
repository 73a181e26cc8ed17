-- Click-through rate by domain: each bid joined by tx_id with its impression and click (the lake
-- holds every event once, so the joins are one to one).
SELECT b.domain,
       count(*) AS bids,
       count(i.tx_id) AS impressions,
       count(c.tx_id) AS clicks,
       round(CAST(count(c.tx_id) AS double) / nullif(count(i.tx_id), 0), 4) AS ctr
FROM parquet_bids b
LEFT JOIN parquet_impressions i ON i.tx_id = b.tx_id
LEFT JOIN parquet_clicks c ON c.tx_id = b.tx_id
GROUP BY b.domain
ORDER BY impressions DESC, b.domain
LIMIT 100
