{#- Secure view GOLD_BI.DIM_DATE over the published gold.dim_date (no member rows, readable by every BI viewer).
    Snowflake only; built by the BI views step (docs/warehouse.md, "BI views"). -#}
{{ config(materialized='view', secure=true, alias='dim_date') }}

select * from {{ source('gold_published', 'dim_date') }}
