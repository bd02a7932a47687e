-- Time Travel and zero-copy clones (what `wdp warehouse clone --target NAME` runs).

-- Retention per layer is set by Terraform from shared/shared/snowflake_naming.json
-- (retention_days): BRONZE 30 days (the replay source), GOLD 7, SILVER 1 (rebuildable).
-- Fail-safe adds 7 days on permanent tables; LOAD_STAGING is TRANSIENT (no fail-safe, no cost).
SHOW SCHEMAS IN DATABASE WHOOP;

-- Dev/CI copy of everything, no storage until either side changes:
CREATE OR REPLACE DATABASE WHOOP_CI CLONE WHOOP;
-- ... as it was an hour ago (before a bad deploy), via Time Travel:
CREATE OR REPLACE DATABASE WHOOP_BEFORE CLONE WHOOP AT (OFFSET => -3600);
-- Undo an accidental delete in bronze:
-- INSERT INTO WHOOP.BRONZE.RAW_SLEEP SELECT * FROM WHOOP.BRONZE.RAW_SLEEP AT (OFFSET => -600)
--   MINUS SELECT * FROM WHOOP.BRONZE.RAW_SLEEP;
-- UNDROP TABLE WHOOP.BRONZE.RAW_SLEEP;

-- Write-audit-publish (SnowflakeWarehouse.publish, GOLD as WDP_GOLD_PUBLISHER):
USE ROLE WDP_GOLD_PUBLISHER;
CREATE SCHEMA IF NOT EXISTS WHOOP.GOLD_PUBLISHED;
CREATE OR REPLACE SCHEMA WHOOP.GOLD_PUBLISH_NEXT CLONE WHOOP.GOLD_PUBLISHED;
CREATE OR REPLACE TABLE WHOOP.GOLD_PUBLISH_NEXT.FACT_SLEEP CLONE WHOOP.GOLD.FACT_SLEEP;
ALTER SCHEMA WHOOP.GOLD_PUBLISHED SWAP WITH WHOOP.GOLD_PUBLISH_NEXT;
DROP SCHEMA IF EXISTS WHOOP.GOLD_PUBLISH_NEXT;
