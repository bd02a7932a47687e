{#- A fixed-length numeric array (fact_workouts.zone_duration_minutes): a DuckDB list or a
    Snowflake ARRAY. -#}
{% macro numeric_array(exprs) -%}
    {{ return(adapter.dispatch('numeric_array', 'whoop_platform')(exprs)) }}
{%- endmacro %}

{% macro default__numeric_array(exprs) -%}
    cast([{{ exprs | join(', ') }}] as double[])
{%- endmacro %}

{#- The explicit ::array is a no-op on Snowflake; fakesnow needs it to store the column as
    semi-structured instead of a DuckDB list it cannot describe. -#}
{% macro snowflake__numeric_array(exprs) -%}
    array_construct({{ exprs | join(', ') }})::array
{%- endmacro %}
