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
