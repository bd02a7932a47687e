{#- Reading fields out of the raw `payload` (JSON in DuckDB, VARIANT in Snowflake).
    `path` is a dotted path such as 'score.stage_summary.total_in_bed_time_milli'. A missing
    field and a JSON null both come back as SQL null (WHOOP omits unknown fields). -#}

{% macro json_get_text(column, path) -%}
    {{ return(adapter.dispatch('json_get_text', 'whoop_platform')(column, path)) }}
{%- endmacro %}

{% macro default__json_get_text(column, path) -%}
    json_extract_string({{ column }}, '$.{{ path }}')
{%- endmacro %}

{% macro snowflake__json_get_text(column, path) -%}
    {{ column }}:{{ path }}::varchar
{%- endmacro %}


{% macro json_get_number(column, path) -%}
    {{ return(adapter.dispatch('json_get_number', 'whoop_platform')(column, path)) }}
{%- endmacro %}

{% macro default__json_get_number(column, path) -%}
    cast(json_extract_string({{ column }}, '$.{{ path }}') as double)
{%- endmacro %}

{% macro snowflake__json_get_number(column, path) -%}
    {{ column }}:{{ path }}::float
{%- endmacro %}


{% macro json_get_bigint(column, path) -%}
    {{ return(adapter.dispatch('json_get_bigint', 'whoop_platform')(column, path)) }}
{%- endmacro %}

{% macro default__json_get_bigint(column, path) -%}
    cast(json_extract_string({{ column }}, '$.{{ path }}') as bigint)
{%- endmacro %}

{% macro snowflake__json_get_bigint(column, path) -%}
    {{ column }}:{{ path }}::bigint
{%- endmacro %}


{% macro json_get_bool(column, path) -%}
    {{ return(adapter.dispatch('json_get_bool', 'whoop_platform')(column, path)) }}
{%- endmacro %}

{% macro default__json_get_bool(column, path) -%}
    cast(json_extract_string({{ column }}, '$.{{ path }}') as boolean)
{%- endmacro %}

{% macro snowflake__json_get_bool(column, path) -%}
    {{ column }}:{{ path }}::boolean
{%- endmacro %}
