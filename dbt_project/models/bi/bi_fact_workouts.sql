{#- Secure view for Power BI over gold.fact_workouts (Snowflake only: the view text and the
    underlying tables stay hidden from the BI role, which is granted this schema only). -#}
{{ config(materialized='view', secure=true) }}

with

source as (
    select * from {{ ref('fact_workouts') }}
)

select * from source
