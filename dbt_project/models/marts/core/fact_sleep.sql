{#- Every DQ-clean sleep, naps (is_nap) and unscored ones (score_state, null scores) included. -#}
{{ touched_keys_incremental_config('sleep_id', 'sleep') }}

with

sleeps as (
    select * from {{ ref('int_sleeps_day_assigned') }}
),

{{ touched_keys_ctes('sleep', 'sleep') }}

final as (
    select
        cast(sleeps.sleep_id as varchar) as sleep_id,
        cast(sleeps.user_id as bigint) as user_key,
        cast(sleeps.date_key as integer) as date_key,
        cast(sleeps.cycle_id as bigint) as cycle_id,
        sleeps.is_nap,
        cast(sleeps.score_state as varchar) as score_state,
        sleeps.start_at_utc as sleep_start_timestamp,
        sleeps.end_at_utc as sleep_end_timestamp,
        sleeps.start_at_local,
        sleeps.end_at_local,
        sleeps.timezone_offset,
        sleeps.in_bed_minutes,
        sleeps.awake_minutes,
        sleeps.light_sleep_minutes,
        sleeps.deep_sleep_minutes,
        sleeps.rem_sleep_minutes,
        sleeps.no_data_minutes,
        sleeps.asleep_minutes as total_sleep_minutes,
        sleeps.sleep_efficiency_percentage as sleep_efficiency_pct,
        sleeps.sleep_performance_percentage as sleep_performance_pct,
        sleeps.sleep_consistency_percentage as sleep_consistency_pct,
        sleeps.respiratory_rate_rpm as respiratory_rate,
        cast(sleeps.disturbance_count as integer) as disturbance_count,
        cast(sleeps.sleep_cycle_count as integer) as sleep_cycle_count,
        sleeps.sleep_need_minutes as sleep_needed_minutes,
        sleeps.sleep_debt_minutes,
        sleeps.updated_at,
        sleeps.load_timestamp
    from sleeps
    where {{ touched_keys_filter('sleeps.sleep_id') }}
)

select * from final
