-- Secure views for Power BI: BI reads WHOOP.BI only, never the tables underneath.
-- SECURE hides the view definition and stops optimizer-based leaks (predicates cannot be pushed
-- below the row filter). The row filter maps the BI user to the WHOOP users they may see; a
-- coach/admin mapping table is owned by the platform, not by BI.
-- dbt (WDP_TRANSFORMER) owns these via marts' secure-view materialisation on Snowflake; this
-- file is the reference for what they must look like.

USE ROLE SYSADMIN;

CREATE TABLE IF NOT EXISTS WHOOP.GOLD.BI_USER_ACCESS (
    BI_ROLE VARCHAR NOT NULL,       -- Snowflake role the BI user runs as
    USER_KEY NUMBER(19, 0) NOT NULL -- WHOOP user id they may see
);

CREATE OR REPLACE SECURE VIEW WHOOP.BI.DAILY_RECOVERY AS
SELECT r.recovery_id, r.user_key, r.date_key, r.recovery_score, r.recovery_band, r.hrv_rmssd_ms,
       r.resting_heart_rate_bpm, r.spo2_percentage, r.skin_temp_celsius
FROM WHOOP.GOLD.FACT_DAILY_RECOVERY AS r
WHERE EXISTS (
    SELECT 1 FROM WHOOP.GOLD.BI_USER_ACCESS AS a
    WHERE a.USER_KEY = r.user_key AND IS_ROLE_IN_SESSION(a.BI_ROLE)
);

CREATE OR REPLACE SECURE VIEW WHOOP.BI.SLEEP AS
SELECT s.sleep_id, s.user_key, s.date_key, s.is_nap, s.score_state, s.total_sleep_minutes,
       s.sleep_efficiency_pct, s.sleep_performance_pct, s.sleep_debt_minutes
FROM WHOOP.GOLD.FACT_SLEEP AS s
WHERE EXISTS (
    SELECT 1 FROM WHOOP.GOLD.BI_USER_ACCESS AS a
    WHERE a.USER_KEY = s.user_key AND IS_ROLE_IN_SESSION(a.BI_ROLE)
);

CREATE OR REPLACE SECURE VIEW WHOOP.BI.PREDICTIONS AS
SELECT p.user_key, p.date_key, p.model_name, p.predicted_recovery, p.lower_80, p.upper_80,
       p.is_anomaly
FROM WHOOP.GOLD.FACT_PREDICTIONS AS p
WHERE EXISTS (
    SELECT 1 FROM WHOOP.GOLD.BI_USER_ACCESS AS a
    WHERE a.USER_KEY = p.user_key AND IS_ROLE_IN_SESSION(a.BI_ROLE)
);

GRANT SELECT ON ALL VIEWS IN SCHEMA WHOOP.BI TO ROLE WDP_BI_READER;
