-- Loyalty tiers for the List loyalty_members.
SELECT
  CASE WHEN l.lifetime_value >= 1500 THEN 'gold_tier' ELSE 'silver_tier' END AS selligent_segment,
  l.customer_id                                   AS customer_identifier,
  l.email                                         AS email,
  CAST(l.lifetime_value AS DOUBLE)                AS lifetime_value,
  CAST(l.orders_count AS BIGINT)                  AS orders_count
FROM loyalty_accounts AS l
