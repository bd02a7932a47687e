-- Alternative ingestion A: external stage on the ADLS Gen2 lake (no PUT; Snowflake reads blobs
-- where they lie). Enabled in the loader with WDP_SNOWFLAKE_EXTERNAL_STAGE=WHOOP.BRONZE.ADLS_BRONZE.
-- Cannot be exercised against fakesnow (no storage integrations); see docs/warehouse.md.

USE ROLE ACCOUNTADMIN;   -- storage integrations need ACCOUNTADMIN (or CREATE INTEGRATION)

CREATE STORAGE INTEGRATION IF NOT EXISTS WDP_ADLS_INT
    TYPE = EXTERNAL_STAGE
    STORAGE_PROVIDER = 'AZURE'
    ENABLED = TRUE
    AZURE_TENANT_ID = '<tenant-id>'
    STORAGE_ALLOWED_LOCATIONS = ('azure://<account>.blob.core.windows.net/lake/bronze/whoop/');

-- Then: DESC STORAGE INTEGRATION WDP_ADLS_INT; open AZURE_CONSENT_URL once, and grant the
-- AZURE_MULTI_TENANT_APP_NAME service principal "Storage Blob Data Reader" on the container
-- (infrastructure/azure does the role assignment).

GRANT USAGE ON INTEGRATION WDP_ADLS_INT TO ROLE SYSADMIN;

USE ROLE SYSADMIN;
CREATE STAGE IF NOT EXISTS WHOOP.BRONZE.ADLS_BRONZE
    STORAGE_INTEGRATION = WDP_ADLS_INT
    URL = 'azure://<account>.blob.core.windows.net/lake/'
    FILE_FORMAT = WHOOP.BRONZE.WDP_NDJSON
    COMMENT = 'the lake container; blob paths are bronze/whoop/<resource>/...';
GRANT USAGE ON STAGE WHOOP.BRONZE.ADLS_BRONZE TO ROLE WDP_LOADER;

-- What the loader runs per blob in this mode (one COPY per file, so a broken file fails alone;
-- METADATA$FILE_ROW_NUMBER gives exact line numbers; the raw line travels as text so invalid
-- JSON reaches QUARANTINE_RECORDS instead of aborting the COPY):
--
-- COPY INTO WHOOP.BRONZE.LOAD_STAGING FROM (
--     SELECT OBJECT_CONSTRUCT('b', '<batch>', 'f', <idx>, 'n', METADATA$FILE_ROW_NUMBER,
--                             'line', $1, 'r', '<resource>', 'p', '<blob path>',
--                             't', '<trace id>', 'ft', '<fetched_at>')
--     FROM @WHOOP.BRONZE.ADLS_BRONZE/bronze/whoop/sleep/user_id=1/dt=2025-03-12/x.ndjson.gz)
-- FILE_FORMAT = (TYPE = CSV FIELD_DELIMITER = NONE ESCAPE_UNENCLOSED_FIELD = NONE
--                FIELD_OPTIONALLY_ENCLOSED_BY = NONE SKIP_BLANK_LINES = TRUE COMPRESSION = AUTO)
-- FORCE = TRUE;   -- our LOAD_HISTORY, not COPY's 64-day file metadata, decides what is new
