{#- Row-level invariant: fails with every row where `expression` is not true.
    Our own version of dbt_utils.expression_is_true (hub packages cannot be installed here). -#}
{% test expression_is_true(model, expression, where_clause=none) %}
select *
from {{ model }}
where not ({{ expression }})
{%- if where_clause is not none %}
    and ({{ where_clause }})
{%- endif %}
{% endtest %}


{#- Column within [min_value, max_value] (nulls pass: WHOOP leaves unknown fields out). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}
select *
from {{ model }}
where {{ column_name }} is not null
  and (
      false
      {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
      {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
  )
{% endtest %}


{#- The combination of columns is unique (composite primary key of aggregates and marts). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
