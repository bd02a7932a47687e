with

sleeps as (
    -- a record with an unparsable field is in int_whoop__quarantine, not here
    select * from {{ ref('stg_whoop__sleeps') }}
    where unparsable_fields is null
),

localised as (
    select
        *,
        {{ to_local('start_at_utc', 'timezone_offset_minutes') }} as start_at_local,
        {{ to_local('end_at_utc', 'timezone_offset_minutes') }} as end_at_local
    from sleeps
),

assigned as (
    select
        ---------- ids
        sleep_id,
        cycle_id,
        user_id,

        ---------- flags and states
        is_nap,
        score_state,

        ---------- day assignment: a sleep (or nap) belongs to the local date of its end
        cast(end_at_local as date) as sleep_date,
        {{ date_key('cast(end_at_local as date)') }} as date_key,

        ---------- timestamps
        start_at_utc,
        end_at_utc,
        start_at_local,
        end_at_local,
        timezone_offset,
        timezone_offset_minutes,

        ---------- durations in minutes (double, not rounded)
        {{ ms_to_minutes('in_bed_ms') }} as in_bed_minutes,
        {{ ms_to_minutes('awake_ms') }} as awake_minutes,
        {{ ms_to_minutes('light_sleep_ms') }} as light_sleep_minutes,
        {{ ms_to_minutes('deep_sleep_ms') }} as deep_sleep_minutes,
        {{ ms_to_minutes('rem_sleep_ms') }} as rem_sleep_minutes,
        {{ ms_to_minutes('no_data_ms') }} as no_data_minutes,
        {{ ms_to_minutes('light_sleep_ms + deep_sleep_ms + rem_sleep_ms') }} as asleep_minutes,
        {{ ms_to_minutes(
            'need_baseline_ms + need_from_sleep_debt_ms'
            ~ ' + need_from_recent_strain_ms + need_from_recent_nap_ms'
        ) }} as sleep_need_minutes,
        {{ ms_to_minutes('need_from_sleep_debt_ms') }} as sleep_debt_minutes,

        ---------- scores
        sleep_efficiency_percentage,
        sleep_performance_percentage,
        sleep_consistency_percentage,
        respiratory_rate_rpm,
        disturbance_count,
        sleep_cycle_count,

        ---------- audit
        updated_at,
        load_timestamp
    from localised
)

select * from assigned
