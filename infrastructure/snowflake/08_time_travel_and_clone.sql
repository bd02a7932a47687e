-- Time Travel and zero-copy clones (what `wdp warehouse clone --target NAME` runs).

-- Retention (set in 01): BRONZE 30 days (the replay source), GOLD 7, SILVER 1 (rebuildable).
-- Fail-safe adds 7 days on permanent tables; LOAD_STAGING is TRANSIENT (no fail-safe, no cost).
ALTER SCHEMA WHOOP.BRONZE SET DATA_RETENTION_TIME_IN_DAYS = 30;

-- Dev/CI copy of everything, no storage until either side changes:
CREATE OR REPLACE DATABASE WHOOP_CI CLONE WHOOP;
-- ... as it was an hour ago (before a bad deploy), via Time Travel:
CREATE OR REPLACE DATABASE WHOOP_BEFORE CLONE WHOOP AT (OFFSET => -3600);
-- Undo an accidental delete in bronze:
-- INSERT INTO WHOOP.BRONZE.RAW_SLEEP SELECT * FROM WHOOP.BRONZE.RAW_SLEEP AT (OFFSET => -600)
--   MINUS SELECT * FROM WHOOP.BRONZE.RAW_SLEEP;
-- UNDROP TABLE WHOOP.BRONZE.RAW_SLEEP;
