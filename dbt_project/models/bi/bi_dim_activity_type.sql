{#- Secure view GOLD_BI.DIM_ACTIVITY_TYPE over the published gold.dim_activity_type (no member rows, readable by every BI viewer).
    Snowflake only; built by the BI views step (docs/warehouse.md, "BI views"). -#}
{{ config(materialized='view', secure=true, alias='dim_activity_type') }}

select * from {{ source('gold_published', 'dim_activity_type') }}
