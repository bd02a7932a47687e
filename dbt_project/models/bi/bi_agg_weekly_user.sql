{#- Secure view GOLD_BI.AGG_WEEKLY_USER over the published gold.agg_weekly_user (rows filtered by the MEMBER_ACCESS row access policy on user_key).
    Snowflake only; built by the BI views step (docs/warehouse.md, "BI views"). -#}
{{ config(materialized='view', secure=true, alias='agg_weekly_user', post_hook=["{{ wdp_member_access_policy('user_key') }}"]) }}

select * from {{ source('gold_published', 'agg_weekly_user') }}
