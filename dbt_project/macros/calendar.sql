{#- ISO calendar parts for dim_date; each warehouse names these functions differently. -#}

{% macro iso_day_of_week(date_expr) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'whoop_platform')(date_expr)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_expr) -%}
    cast(isodow({{ date_expr }}) as integer)
{%- endmacro %}

{% macro snowflake__iso_day_of_week(date_expr) -%}
    cast(dayofweekiso({{ date_expr }}) as integer)
{%- endmacro %}


{% macro iso_week_of_year(date_expr) -%}
    {{ return(adapter.dispatch('iso_week_of_year', 'whoop_platform')(date_expr)) }}
{%- endmacro %}

{% macro default__iso_week_of_year(date_expr) -%}
    cast(weekofyear({{ date_expr }}) as integer)
{%- endmacro %}

{% macro snowflake__iso_week_of_year(date_expr) -%}
    cast(weekiso({{ date_expr }}) as integer)
{%- endmacro %}


{#- English day names from the ISO weekday, identical on both warehouses (Snowflake's
    dayname() returns 'Mon'). -#}
{% macro day_name(date_expr) -%}
    case {{ iso_day_of_week(date_expr) }}
        when 1 then 'Monday'
        when 2 then 'Tuesday'
        when 3 then 'Wednesday'
        when 4 then 'Thursday'
        when 5 then 'Friday'
        when 6 then 'Saturday'
        else 'Sunday'
    end
{%- endmacro %}
