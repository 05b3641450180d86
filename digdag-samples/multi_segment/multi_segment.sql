-- multi_segment: each customer routed to one of three static Segments by value and recency.
-- Run as a td> query (Presto/Trino); its result, exported as CSV, looks like multi_segment.csv.
SELECT
  CASE
    WHEN s.lifetime_value >= 1000 THEN 'vip_customers'
    WHEN s.last_purchase_at < date_add('day', -180, current_timestamp) THEN 're_engagement'
    ELSE 'standard_customers'
  END                                                          AS selligent_segment,
  c.customer_id                                                AS customer_identifier,
  c.email                                                      AS email,
  c.first_name                                                 AS first_name,
  CAST(s.lifetime_value AS DOUBLE)                             AS lifetime_value,
  date_format(s.last_purchase_at, '%Y-%m-%d %H:%i:%s')         AS last_purchase_at
FROM customers AS c
JOIN customer_sales_summary AS s ON s.customer_id = c.customer_id
ORDER BY c.customer_id
