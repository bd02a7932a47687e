-- Alternative ingestion B: Snowpipe auto-ingest from the ADLS external stage.
-- Event Grid -> Storage Queue -> Snowpipe notification integration; no loader process at all.
-- Trade-offs (docs/warehouse.md): serverless and near-real-time, but no quarantine of single
-- lines (ON_ERROR = CONTINUE drops them; VALIDATE_PIPE_LOAD shows them afterwards), no
-- BronzeLoaded message to trigger dbt (use a Stream + Task instead, 06_streams_tasks.sql),
-- per-file billing overhead that favours files of 100-250 MB, not 25-record pages.

USE ROLE ACCOUNTADMIN;
CREATE NOTIFICATION INTEGRATION IF NOT EXISTS WDP_BRONZE_EVENTS_INT
    ENABLED = TRUE
    TYPE = QUEUE
    NOTIFICATION_PROVIDER = AZURE_STORAGE_QUEUE
    AZURE_STORAGE_QUEUE_PRIMARY_URI = 'https://<account>.queue.core.windows.net/snowpipe-bronze'
    AZURE_TENANT_ID = '<tenant-id>';
GRANT USAGE ON INTEGRATION WDP_BRONZE_EVENTS_INT TO ROLE SYSADMIN;

USE ROLE SYSADMIN;

-- One landing table for every resource; the raw-table split happens in the task (06).
CREATE TABLE IF NOT EXISTS WHOOP.BRONZE.PIPE_LANDING (
    PAYLOAD VARIANT,
    SOURCE_FILE VARCHAR,
    LINE_NUMBER INTEGER,
    LOAD_TIMESTAMP TIMESTAMP_NTZ DEFAULT CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP())::TIMESTAMP_NTZ
);

CREATE PIPE IF NOT EXISTS WHOOP.BRONZE.WDP_BRONZE_PIPE
    AUTO_INGEST = TRUE
    INTEGRATION = 'WDP_BRONZE_EVENTS_INT'
    AS
    COPY INTO WHOOP.BRONZE.PIPE_LANDING (PAYLOAD, SOURCE_FILE, LINE_NUMBER)
    FROM (
        SELECT $1, METADATA$FILENAME, METADATA$FILE_ROW_NUMBER
        FROM @WHOOP.BRONZE.ADLS_BRONZE/bronze/whoop/
    )
    FILE_FORMAT = (FORMAT_NAME = 'WHOOP.BRONZE.WDP_NDJSON')
    ON_ERROR = CONTINUE;

-- Operations: SELECT SYSTEM$PIPE_STATUS('WHOOP.BRONZE.WDP_BRONZE_PIPE');
--             SELECT * FROM TABLE(VALIDATE_PIPE_LOAD(PIPE_NAME => 'WHOOP.BRONZE.WDP_BRONZE_PIPE',
--                                                   START_TIME => DATEADD(hour, -1, CURRENT_TIMESTAMP())));
