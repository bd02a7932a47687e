{#- Time helpers shared by staging and the day-assignment models. -#}

{#- WHOOP timestamps are ISO-8601 UTC with milliseconds and `Z`; we keep them as naive UTC
    timestamps (timestamp / timestamp_ntz) so both warehouses compare them the same way. A
    safe cast: text that is no timestamp gives null (see safe_cast.sql), not a failed build. -#}
{% macro parse_utc_timestamp(text_expr) -%}
    {{ return(adapter.dispatch('parse_utc_timestamp', 'whoop_platform')(text_expr)) }}
{%- endmacro %}

{% macro default__parse_utc_timestamp(text_expr) -%}
    try_cast(replace({{ text_expr }}, 'Z', '') as timestamp)
{%- endmacro %}

{% macro snowflake__parse_utc_timestamp(text_expr) -%}
    -- TRY_CAST from text is Snowflake's TRY_TO_TIMESTAMP_NTZ, and the emulator (fakesnow)
    -- runs it (it has no TRY_TO_TIMESTAMP*)
    try_cast(replace({{ text_expr }}, 'Z', '') as timestamp_ntz)
{%- endmacro %}


{#- `timezone_offset` is a W3C TZD: `+hh:mm`, `-hh:mm` or `Z`. Portable string arithmetic
    with safe casts, so no dispatch is needed. Returns signed minutes east of UTC; an absent
    offset is UTC (0), an offset in any other format or beyond ±14:59 is null
    (`unparsable_fields` type `tz_offset`). -#}
{% macro offset_to_minutes(offset_expr) -%}
    case
        when {{ offset_expr }} is null or {{ offset_expr }} = 'Z' then 0
        when
            length({{ offset_expr }}) = 6
            and substr({{ offset_expr }}, 1, 1) in ('+', '-')
            and substr({{ offset_expr }}, 4, 1) = ':'
            and {{ safe_to_bigint('substr(' ~ offset_expr ~ ', 2, 2)') }} <= 14
            and {{ safe_to_bigint('substr(' ~ offset_expr ~ ', 5, 2)') }} < 60
            then
                (case when substr({{ offset_expr }}, 1, 1) = '-' then -1 else 1 end)
                * (
                    {{ safe_to_bigint('substr(' ~ offset_expr ~ ', 2, 2)') }} * 60
                    + {{ safe_to_bigint('substr(' ~ offset_expr ~ ', 5, 2)') }}
                )
    end
{%- endmacro %}


{#- local(ts, tz) = ts + timezone_offset (docs/data-model.md, "Day assignment"). -#}
{% macro to_local(ts_expr, offset_minutes_expr) -%}
    {{ dbt.dateadd('minute', offset_minutes_expr, ts_expr) }}
{%- endmacro %}


{#- YYYYMMDD integer key of a date, as used by every gold `date_key`. -#}
{% macro date_key(date_expr) -%}
    cast(
        extract(year from {{ date_expr }}) * 10000
        + extract(month from {{ date_expr }}) * 100
        + extract(day from {{ date_expr }})
        as integer
    )
{%- endmacro %}


{#- Current UTC time as a naive timestamp, comparable with `load_timestamp`. -#}
{% macro utc_now() -%}
    {{ return(adapter.dispatch('utc_now', 'whoop_platform')()) }}
{%- endmacro %}

{% macro default__utc_now() -%}
    cast(timezone('UTC', now()) as timestamp)
{%- endmacro %}

{% macro snowflake__utc_now() -%}
    sysdate()
{%- endmacro %}


{#- Milliseconds to minutes: a double, deliberately not rounded (data-model contract). -#}
{% macro ms_to_minutes(ms_expr) -%}
    cast({{ ms_expr }} as double) / 60000.0
{%- endmacro %}

{#- kJ to kcal with the thermochemical calorie (4.184 J). -#}
{% macro kj_to_kcal(kj_expr) -%}
    cast({{ kj_expr }} as double) / 4.184
{%- endmacro %}


{#- Whole-precision minutes between two timestamps (double; milliseconds kept). -#}
{% macro datediff_minutes(start_expr, end_expr) -%}
    cast({{ dbt.datediff(start_expr, end_expr, 'millisecond') }} as double) / 60000.0
{%- endmacro %}
