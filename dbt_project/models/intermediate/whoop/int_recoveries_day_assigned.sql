with

recoveries as (
    -- a record with an unparsable field is in int_whoop__quarantine, not here
    select * from {{ ref('stg_whoop__recoveries') }}
    where unparsable_fields is null
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
        sleeps.is_nap as is_from_nap,
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

one_per_cycle as (
    -- a recovery may belong to a nap (WHOOP scores a nap when it is the cycle's only sleep),
    -- and on some days a nap gets a second recovery for a cycle that already has one: the
    -- cycle's recovery is then its main sleep's; among equals the latest version wins
    select * from assigned
    qualify row_number() over (
        partition by cycle_id order by is_from_nap asc, updated_at desc, sleep_id desc
    ) = 1
),

final as (
    select
        *,
        {{ date_key('recovery_date') }} as date_key
    from one_per_cycle
)

select * from final
