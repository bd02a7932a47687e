{#- Overrides that exist only for the local Snowflake emulator (target `fakesnow`).
    fakesnow rejects `create temporary table` in a regular schema ("TEMPORARY table names can
    only use the temp catalog"), which breaks incremental models and unit tests; a transient
    table behaves the same for dbt's purposes. On every other target the body is dbt-snowflake's
    own temporary-table DDL, unchanged. -#}
{% macro snowflake__create_table_temporary_sql(relation, compiled_code) -%}
    {%- if target.name == 'fakesnow' -%}
        {{ snowflake__create_table_transient_sql(relation, compiled_code) }}
    {%- else -%}
        {%- set contract_config = config.get('contract') -%}
        {%- if contract_config.enforced -%}
            {{- get_assert_columns_equivalent(compiled_code) -}}
            {%- set compiled_code = get_select_subquery(compiled_code) -%}
        {%- endif -%}
        {%- set sql_header = config.get('sql_header', none) -%}
        {{ sql_header if sql_header is not none }}
        create or replace temporary table {{ relation }}
            {%- if contract_config.enforced %}
            {{ get_table_columns_and_constraints() }}
            {%- endif %}
        as (
            {{ compiled_code }}
            )
        ;
    {%- endif -%}
{%- endmacro %}

