-- create_list: loyalty tiers into a List that does not exist yet. The column types of this result
-- (its schema, saved as create_list.schema.json) decide the types of the List fields the exporter
-- creates: varchar -> Text(500), bigint -> Long, double -> Float, boolean -> Boolean, timestamp -> DateTime.
-- Its result, exported as CSV, looks like create_list.csv.
SELECT
  CASE WHEN l.lifetime_value >= 1500 THEN 'gold_tier' ELSE 'silver_tier' END AS selligent_segment,
  l.customer_id                                   AS customer_identifier,
  l.email                                         AS email,
  CAST(l.lifetime_value AS DOUBLE)                AS lifetime_value,
  CAST(l.orders_count AS BIGINT)                  AS orders_count,
  l.is_member                                     AS is_member,
  CAST(l.signed_up_at AS TIMESTAMP)               AS signed_up_at
FROM loyalty_accounts AS l
ORDER BY l.customer_id
