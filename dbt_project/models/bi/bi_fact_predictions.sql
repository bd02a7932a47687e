{#- Secure view GOLD_BI.FACT_PREDICTIONS over the published gold.fact_predictions (rows filtered by the MEMBER_ACCESS row access policy on user_key).
    Snowflake only; built by the BI views step (docs/warehouse.md, "BI views"). -#}
{{ config(materialized='view', secure=true, alias='fact_predictions', post_hook=["{{ wdp_member_access_policy('user_key') }}"]) }}

select * from {{ source('gold_published', 'fact_predictions') }}
