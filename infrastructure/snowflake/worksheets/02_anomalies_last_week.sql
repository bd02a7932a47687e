-- Snowsight worksheet: members flagged as anomalous in the last 7 days, worst first.
SELECT p.user_key, p.date_key, p.model_name, p.anomaly_score, p.anomaly_reasons
FROM WHOOP.GOLD_BI.FACT_PREDICTIONS AS p
JOIN WHOOP.GOLD_BI.DIM_DATE AS d ON d.date_key = p.date_key
WHERE p.is_anomaly
  AND d.full_date >= DATEADD(day, -7, CURRENT_DATE())
ORDER BY p.anomaly_score DESC
LIMIT 100;
