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
