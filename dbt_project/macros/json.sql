{#- Reading fields out of the raw `payload` (JSON in DuckDB, VARIANT in Snowflake).
    `path` is a dotted path such as 'score.stage_summary.total_in_bed_time_milli'. A missing
    field and a JSON null both come back as SQL null (WHOOP omits unknown fields). Typed reads
    go through the safe casts of safe_cast.sql on the field's text, so a value of the wrong
    type is null (and named by `unparsable_fields`), never a failed build. -#}

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
    {{ safe_to_double(default__json_get_text(column, path)) }}
{%- endmacro %}

{% macro snowflake__json_get_number(column, path) -%}
    {{ safe_to_double(snowflake__json_get_text(column, path)) }}
{%- endmacro %}


{% macro json_get_bigint(column, path) -%}
    {{ return(adapter.dispatch('json_get_bigint', 'whoop_platform')(column, path)) }}
{%- endmacro %}

{% macro default__json_get_bigint(column, path) -%}
    {{ safe_to_bigint(default__json_get_text(column, path)) }}
{%- endmacro %}

{% macro snowflake__json_get_bigint(column, path) -%}
    {{ safe_to_bigint(snowflake__json_get_text(column, path)) }}
{%- endmacro %}


{% macro json_get_bool(column, path) -%}
    {{ return(adapter.dispatch('json_get_bool', 'whoop_platform')(column, path)) }}
{%- endmacro %}

{% macro default__json_get_bool(column, path) -%}
    {{ safe_to_boolean(default__json_get_text(column, path)) }}
{%- endmacro %}

{% macro snowflake__json_get_bool(column, path) -%}
    {{ safe_to_boolean(snowflake__json_get_text(column, path)) }}
{%- endmacro %}
