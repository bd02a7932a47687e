{#- One `select ... union all select ...` per DQ rule for a day-assigned silver relation.
    Each rule is (rule, failing_condition, offending_column, reason). The offending value is
    kept as text so the quarantine shows what was wrong without another lookup. -#}
{% macro dq_checks(relation, resource, key_expr, rules) -%}
    {%- for rule, condition, column, reason in rules %}
    select
        '{{ resource }}' as resource,
        {{ key_expr }} as record_key,
        user_id,
        date_key,
        '{{ rule }}' as rule,
        '{{ reason }}' || ' (' || '{{ column }}' || ' = '
        || coalesce(cast({{ column }} as varchar), 'null') || ')' as reason,
        updated_at,
        load_timestamp
    from {{ relation }}
    where {{ condition }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}


{#- The table the transformer records failed data tests in (services/transformer,
    transformer/dq_failures.py) and mart_data_quality reads. dbt owns its DDL so that every
    build, on both warehouses, finds it before the mart reads it; the transformer only
    inserts. An on-run-start hook runs these statements (one each: Snowflake runs one
    statement per call). -#}
{% macro create_dq_test_failures_schema() -%}
    create schema if not exists silver
{%- endmacro %}

{% macro create_dq_test_failures_table() -%}
    create table if not exists silver.dq_test_failures (
        run_id varchar not null,
        test_id varchar not null,
        test_name varchar not null,
        status varchar not null,
        failing_rows bigint,
        sample_keys varchar,
        message varchar,
        failed_at timestamp not null
    )
{%- endmacro %}
