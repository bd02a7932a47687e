{#- Secure view GOLD_BI.AGG_MONTHLY_USER over the published gold.agg_monthly_user (rows filtered by the MEMBER_ACCESS row access policy on user_key).
    Snowflake only; built by the BI views step (docs/warehouse.md, "BI views"). -#}
{{ config(materialized='view', secure=true, alias='agg_monthly_user', post_hook=["{{ wdp_member_access_policy('user_key') }}"]) }}

select * from {{ source('gold_published', 'agg_monthly_user') }}
