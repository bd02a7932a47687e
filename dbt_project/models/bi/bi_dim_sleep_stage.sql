{#- Secure view GOLD_BI.DIM_SLEEP_STAGE over the published gold.dim_sleep_stage (no member rows, readable by every BI viewer).
    Snowflake only; built by the BI views step (docs/warehouse.md, "BI views"). -#}
{{ config(materialized='view', secure=true, alias='dim_sleep_stage') }}

select * from {{ source('gold_published', 'dim_sleep_stage') }}
