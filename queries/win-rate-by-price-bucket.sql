-- Win rate by bid price, in buckets of 10: the share of bids won, and the mean clearing price of
-- those won. A bid is won when an impression of its tx_id is within 5 minutes of it, by event time
-- (the rule of lambdas/ml/outcome.ts, which training uses too).
SELECT CAST(floor(b.win_price / 10.0) * 10 AS bigint) AS price_bucket,
       count(*) AS bids,
       count(i.tx_id) AS won,
       round(CAST(count(i.tx_id) AS double) / count(*), 4) AS win_rate,
       round(avg(i.win_price), 2) AS mean_clearing_price
FROM parquet_bids b
LEFT JOIN parquet_impressions i ON i.tx_id = b.tx_id AND i.event_time BETWEEN b.event_time - INTERVAL '5' MINUTE AND b.event_time + INTERVAL '5' MINUTE
WHERE b.win_price IS NOT NULL
GROUP BY CAST(floor(b.win_price / 10.0) * 10 AS bigint)
ORDER BY price_bucket
