{#- Schemas are exactly `silver` / `gold` in every target: BI and the scorer address them by
    name, so dbt's default `<target_schema>_<custom>` prefixing is switched off. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
