-- basic: customers active in the last 90 days, all routed to one static Segment.
-- Run as a td> query (Presto/Trino); its result, exported as CSV, looks like basic.csv.
SELECT
  'active_customers'  AS selligent_segment,   -- routing column: the target Segment's api_name
  c.customer_id       AS customer_identifier, -- key field (key_fields: CUSTOMER_IDENTIFIER)
  c.email             AS email,
  c.first_name        AS first_name,
  c.last_name         AS last_name
FROM customers AS c
WHERE TD_INTERVAL(c.last_activity_time, '-90d')
ORDER BY c.customer_id
