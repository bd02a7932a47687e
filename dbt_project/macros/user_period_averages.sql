{#- One row per user and ISO period (`week`: starting Monday, `month`: starting the 1st) with
    the averages the Power BI trend pages plot: agg_weekly_user and agg_monthly_user are this
    select with their own period. Averages skip days without a value (no recovery, unscored
    cycle or sleep); naps are left out of total sleep minutes. Workouts count whether scored
    or not (an unscorable workout still took its minutes). The period's start comes out as
    `<period>_start_date_key` and `<period>_start_date`, the names the model contracts declare. -#}
{% macro user_period_averages(period) -%}
    {%- if period == 'week' -%}
        {%- set period_start = dbt.dateadd(
            'day', '1 - dates.day_of_week', 'dates.full_date'
        ) -%}
    {%- elif period == 'month' -%}
        {%- set period_start = dbt.date_trunc('month', 'dates.full_date') -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "user_period_averages: period must be 'week' or 'month', got '" ~ period ~ "'"
        ) }}
    {%- endif %}
    with

    recoveries as (
        select * from {{ ref('fact_daily_recovery') }}
    ),

    strain as (
        select * from {{ ref('fact_strain') }}
    ),

    sleeps as (
        select * from {{ ref('fact_sleep') }}
    ),

    workouts as (
        select * from {{ ref('fact_workouts') }}
    ),

    dates as (
        select * from {{ ref('dim_date') }}
    ),

    daily as (
        select
            user_key,
            date_key,
            recovery_score,
            hrv_rmssd_ms,
            resting_heart_rate_bpm,
            cast(null as double) as day_strain_score,
            cast(null as double) as total_sleep_minutes,
            0 as workout_count,
            cast(null as double) as workout_minutes
        from recoveries
        union all
        select
            user_key,
            date_key,
            null as recovery_score,
            null as hrv_rmssd_ms,
            null as resting_heart_rate_bpm,
            day_strain_score,
            null as total_sleep_minutes,
            0 as workout_count,
            null as workout_minutes
        from strain
        union all
        select
            user_key,
            date_key,
            null as recovery_score,
            null as hrv_rmssd_ms,
            null as resting_heart_rate_bpm,
            null as day_strain_score,
            total_sleep_minutes,
            0 as workout_count,
            null as workout_minutes
        from sleeps
        where not is_nap
        union all
        select
            user_key,
            date_key,
            null as recovery_score,
            null as hrv_rmssd_ms,
            null as resting_heart_rate_bpm,
            null as day_strain_score,
            null as total_sleep_minutes,
            1 as workout_count,
            duration_minutes as workout_minutes
        from workouts
    ),

    with_period as (
        select
            daily.*,
            {{ period_start }} as period_start
        from daily
        inner join dates on daily.date_key = dates.date_key
    ),

    final as (
        select
            cast(user_key as bigint) as user_key,
            {{ date_key('cast(period_start as date)') }} as {{ period }}_start_date_key,
            cast(period_start as date) as {{ period }}_start_date,
            avg(recovery_score) as avg_recovery_score,
            avg(hrv_rmssd_ms) as avg_hrv_rmssd_ms,
            avg(resting_heart_rate_bpm) as avg_resting_heart_rate_bpm,
            avg(day_strain_score) as avg_day_strain_score,
            avg(total_sleep_minutes) as avg_total_sleep_minutes,
            cast(sum(workout_count) as integer) as workout_count,
            coalesce(sum(workout_minutes), 0) as workout_minutes
        from with_period
        group by
            user_key,
            period_start
    )

    select * from final
{%- endmacro %}
