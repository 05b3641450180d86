-- replace: this week's newsletter audience. With segment_data_import_option: replace the Segment ends
-- up holding exactly these customers; last week's members who are not in the result leave the Segment
-- (their List records stay). Its result, exported as CSV, looks like replace.csv.
SELECT
  'newsletter_weekly'  AS selligent_segment,
  c.customer_id        AS customer_identifier,
  c.email              AS email,
  c.first_name         AS first_name
FROM customers AS c
WHERE c.newsletter_opt_in = true
  AND c.email IS NOT NULL
ORDER BY c.customer_id
