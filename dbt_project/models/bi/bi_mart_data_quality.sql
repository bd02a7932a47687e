{#- Secure view GOLD_BI.MART_DATA_QUALITY over the published gold.mart_data_quality (no member rows, readable by every BI viewer).
    Snowflake only; built by the BI views step (docs/warehouse.md, "BI views"). -#}
{{ config(materialized='view', secure=true, alias='mart_data_quality') }}

select * from {{ source('gold_published', 'mart_data_quality') }}
