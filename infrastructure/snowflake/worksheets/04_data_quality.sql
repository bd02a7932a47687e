-- Snowsight worksheet: the data-quality mart (quarantined lines, DQ rule failures, failed
-- dbt tests), newest first.
SELECT *
FROM WHOOP.GOLD_BI.MART_DATA_QUALITY
LIMIT 500;
