-- Monthly revenue per region for the last twelve months.
SELECT r.name AS region,
       date_trunc('month', o.created_at) AS month,
       sum(o.total_cents) / 100.0 AS revenue
FROM orders o
JOIN customers c ON c.id = o.customer_id
JOIN regions r ON r.id = c.region_id
WHERE o.created_at >= now() - interval '12 months'
  AND o.status = 'paid'
GROUP BY r.name, month
ORDER BY region, month;
