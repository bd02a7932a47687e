{#- Secure view GOLD_BI.FACT_STRAIN over the published gold.fact_strain (rows filtered by the MEMBER_ACCESS row access policy on user_key).
    Snowflake only; built by the BI views step (docs/warehouse.md, "BI views"). -#}
{{ config(materialized='view', secure=true, alias='fact_strain', post_hook=["{{ wdp_member_access_policy('user_key') }}"]) }}

select * from {{ source('gold_published', 'fact_strain') }}
