{#- Post-hook of the BI views that carry member rows: attach the row access policy Terraform
    creates (infrastructure/snowflake/terraform/governance.tf). CREATE OR REPLACE VIEW drops a
    view's policy, so every build re-attaches it. Names: shared/shared/snowflake_naming.json
    (schemas.governance, row_access_policy), checked by tests/unit/infra/test_snowflake_naming.py. -#}
{% macro wdp_member_access_policy(column) -%}
    alter view {{ this }} add row access policy {{ target.database }}.GOVERNANCE.MEMBER_ACCESS on ({{ column }})
{%- endmacro %}
