-- This week's newsletter audience for the List newsletter_subscribers (loaded with replace: the
-- Segment holds exactly this result afterwards).
SELECT
  'newsletter_weekly'  AS selligent_segment,
  c.customer_id        AS customer_identifier,
  c.email              AS email,
  c.first_name         AS first_name
FROM customers AS c
WHERE c.newsletter_opt_in = true
  AND c.email IS NOT NULL
