{{ touched_keys_incremental_config('cycle_id', 'cycle') }}

with

recoveries as (
    select
        *,
        -- silver keeps one recovery per cycle, so the cycle is the natural key
        md5('recovery|' || cast(cycle_id as varchar)) as recovery_id
    from {{ ref('int_recoveries_day_assigned') }}
),

{{ touched_keys_ctes('recovery', 'cycle') }}

final as (
    select
        recoveries.recovery_id,
        cast(recoveries.user_id as bigint) as user_key,
        cast(recoveries.date_key as integer) as date_key,
        cast(recoveries.cycle_id as bigint) as cycle_id,
        cast(recoveries.sleep_id as varchar) as sleep_id,
        recoveries.recovery_score,
        recoveries.recovery_band,
        recoveries.hrv_rmssd_ms,
        recoveries.resting_heart_rate_bpm,
        recoveries.spo2_percentage,
        recoveries.skin_temp_celsius,
        recoveries.is_user_calibrating as user_calibrating,
        recoveries.updated_at,
        recoveries.load_timestamp
    from recoveries
    where
        recoveries.score_state = 'SCORED'
        and {{ touched_keys_filter('cast(recoveries.cycle_id as varchar)') }}
)

select * from final
