{#- Delete propagation for incremental facts.
    A tombstoned or re-assigned key produces no new row in the incremental batch, so merge alone
    would leave the stale row in gold. Before each incremental run the fact deletes every key
    the lookback window touched; the batch then re-inserts the keys that still exist. -#}
{% macro delete_touched_keys(key_column, key_kind) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where cast({{ key_column }} as varchar) in (
            select touched.record_key
            from {{ ref('int_whoop__touched_keys') }} as touched
            where touched.key_kind = '{{ key_kind }}'
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- The lookback cut-off on bronze `load_timestamp` for the current run. -#}
{% macro lookback_cutoff() -%}
    {{ dbt.dateadd('hour', -1 * (var('lookback_hours') | int), utc_now()) }}
{%- endmacro %}


{#- The config every incremental gold fact shares: merge on `key_column` (the strategy itself
    comes from dbt_project.yml) after the pre-hook deleted the rows whose `delete_column`
    (default: key_column) the lookback window touched. fact_strain merges on strain_id but
    deletes per touched user, since one of its rows aggregates several cycles.
    The depends_on comment registers int_whoop__touched_keys at parse time, when
    is_incremental() is false and neither the hook nor the `touched` CTE calls ref(). -#}
{% macro touched_keys_incremental_config(key_column, key_kind, delete_column=none) -%}
    {%- set delete_column = delete_column or key_column -%}
    {{ config(
        materialized='incremental',
        unique_key=key_column,
        pre_hook=["{{ delete_touched_keys('" ~ delete_column ~ "', '" ~ key_kind ~ "') }}"],
    ) }}
-- depends_on: {{ ref('int_whoop__touched_keys') }}
{%- endmacro %}


{#- The `quarantined` and, on incremental runs, `touched` CTEs (each with its trailing comma)
    that touched_keys_filter reads: one incremental fact's record keys in
    int_whoop__quarantine and in int_whoop__touched_keys. -#}
{% macro touched_keys_ctes(quarantine_resource, key_kind) -%}
quarantined as (
    select record_key from {{ ref('int_whoop__quarantine') }}
    where resource = '{{ quarantine_resource }}'
),
{% if is_incremental() %}
touched as (
    select record_key from {{ ref('int_whoop__touched_keys') }}
    where key_kind = '{{ key_kind }}'
),
{% endif %}
{%- endmacro %}


{#- The where-clause predicate over the CTEs of touched_keys_ctes: the key is not quarantined
    and, on incremental runs, was touched (every other row is still in the fact as it was).
    `touched_text` (default key_text) is what the touched keys name: fact_strain's user. -#}
{% macro touched_keys_filter(key_text, touched_text=none) -%}
    {{ key_text }} not in (select quarantined.record_key from quarantined)
    {%- if is_incremental() %}
        and {{ touched_text or key_text }} in (select touched.record_key from touched)
    {%- endif %}
{%- endmacro %}
