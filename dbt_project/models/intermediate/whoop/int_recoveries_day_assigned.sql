with

recoveries as (
    select * from {{ ref('stg_whoop__recoveries') }}
),

sleeps as (
    select * from {{ ref('int_sleeps_day_assigned') }}
),

assigned as (
    select
        recoveries.cycle_id,
        recoveries.sleep_id,
        recoveries.user_id,
        recoveries.score_state,
        recoveries.recovery_score,
        recoveries.hrv_rmssd_ms,
        recoveries.resting_heart_rate_bpm,
        recoveries.spo2_percentage,
        recoveries.skin_temp_celsius,
        recoveries.is_user_calibrating,
        -- a recovery belongs to the wake day of its sleep; without a live sleep it has no
        -- day, so the inner join keeps it out of silver's day-assigned set (and gold)
        sleeps.sleep_date as recovery_date,
        recoveries.updated_at,
        recoveries.load_timestamp,
        case
            when recoveries.recovery_score < 34 then 'red'
            when recoveries.recovery_score < 67 then 'yellow'
            else 'green'
        end as recovery_band
    from recoveries
    inner join sleeps on recoveries.sleep_id = sleeps.sleep_id
),

final as (
    select
        *,
        {{ date_key('recovery_date') }} as date_key
    from assigned
)

select * from final
