{#- One row per calendar day in [start_date, end_date], without dbt_utils.
    Builds the days from a digits cross join (10^5 days > 270 years), which both warehouses
    plan as a tiny constant scan. -#}
{% macro date_spine(start_date, end_date) -%}
with digits as (
    select 0 as d union all select 1 union all select 2 union all select 3
    union all select 4 union all select 5 union all select 6 union all select 7
    union all select 8 union all select 9
),

offsets as (
    select
        d1.d + d2.d * 10 + d3.d * 100 + d4.d * 1000 + d5.d * 10000 as day_offset
    from digits as d1
    cross join digits as d2
    cross join digits as d3
    cross join digits as d4
    cross join digits as d5
),

spine as (
    select
        cast(
            {{ dbt.dateadd('day', 'day_offset', "cast('" ~ start_date ~ "' as date)") }}
            as date
        ) as calendar_date
    from offsets
)

select calendar_date
from spine
where calendar_date <= cast('{{ end_date }}' as date)
{%- endmacro %}
