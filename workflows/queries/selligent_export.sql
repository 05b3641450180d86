-- The audience to load into Selligent: one row per customer and target Segment.
--   selligent_segment  the routing column (segment_column): the target static Segment's api_name
--   customer_identifier the key (key_fields: CUSTOMER_IDENTIFIER)
--   every other column  a field of the List, named as the column in upper case
SELECT
  CASE
    WHEN s.lifetime_value >= 1000 THEN 'vip_customers'
    WHEN s.last_purchase_at < date_add('day', -180, current_timestamp) THEN 're_engagement'
    ELSE 'standard_customers'
  END                                                     AS selligent_segment,
  c.customer_id                                           AS customer_identifier,
  c.email                                                 AS email,
  c.first_name                                            AS first_name,
  CAST(s.lifetime_value AS DOUBLE)                        AS lifetime_value,
  date_format(s.last_purchase_at, '%Y-%m-%d %H:%i:%s')    AS last_purchase_at
FROM customers AS c
JOIN customer_sales_summary AS s ON s.customer_id = c.customer_id
WHERE c.email IS NOT NULL
