-- Snowsight worksheet: a member's recovery, HRV and resting heart rate over the last 90 days,
-- with the model's prediction for each day. Role WDP_BI_READER, warehouse WDP_BI_WH; the row
-- access policy shows only the members you may see.
SELECT d.full_date, r.recovery_score, r.hrv_rmssd_ms, r.resting_heart_rate_bpm,
       p.predicted_recovery, p.lower_80, p.upper_80
FROM WHOOP.GOLD_BI.FACT_DAILY_RECOVERY AS r
JOIN WHOOP.GOLD_BI.DIM_DATE AS d ON d.date_key = r.date_key
LEFT JOIN WHOOP.GOLD_BI.FACT_PREDICTIONS AS p
    ON p.user_key = r.user_key AND p.date_key = r.date_key
WHERE r.user_key = 10129
  AND d.full_date >= DATEADD(day, -90, CURRENT_DATE())
ORDER BY d.full_date;
