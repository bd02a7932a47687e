with

cycles as (
    -- a record with an unparsable field is in int_whoop__quarantine, not here
    select * from {{ ref('stg_whoop__cycles') }}
    where unparsable_fields is null
),

sleeps as (
    select * from {{ ref('int_sleeps_day_assigned') }}
),

main_sleeps as (
    -- the wake day of the cycle's main (non-nap) sleep; if WHOOP ever lists two, the later
    -- wake wins so each cycle gets exactly one day
    select
        cycle_id,
        sleep_date
    from sleeps
    where not is_nap
    qualify row_number() over (
        partition by cycle_id order by end_at_utc desc, sleep_id desc
    ) = 1
),

assigned as (
    select
        cycles.cycle_id,
        cycles.user_id,
        cycles.score_state,
        cycles.start_at_utc,
        cycles.end_at_utc,
        cycles.end_at_utc is null as is_open,
        cycles.timezone_offset,
        cycles.timezone_offset_minutes,
        cycles.day_strain,
        cycles.energy_kilojoule,
        {{ kj_to_kcal('cycles.energy_kilojoule') }} as energy_kilocalories,
        cycles.average_heart_rate_bpm,
        cycles.max_heart_rate_bpm,
        main_sleeps.sleep_date is not null as has_main_sleep,
        -- no main sleep: local date of start + 12 hours
        coalesce(
            main_sleeps.sleep_date,
            cast(
                {{ to_local(
                    dbt.dateadd('hour', 12, 'cycles.start_at_utc'),
                    'cycles.timezone_offset_minutes'
                ) }} as date
            )
        ) as cycle_date,
        cycles.updated_at,
        cycles.load_timestamp
    from cycles
    left join main_sleeps on cycles.cycle_id = main_sleeps.cycle_id
),

final as (
    select
        *,
        {{ date_key('cycle_date') }} as date_key
    from assigned
)

select * from final
