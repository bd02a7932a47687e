-- A record that fails a DQ rule must never reach a gold fact (docs/data-model.md).
with

quarantine as (
    select * from {{ ref('int_whoop__quarantine') }}
),

leaks as (
    select quarantine.resource, quarantine.record_key
    from quarantine
    inner join {{ ref('fact_daily_recovery') }} as facts
        on quarantine.record_key = cast(facts.cycle_id as varchar)
    where quarantine.resource = 'recovery'
    union all
    select quarantine.resource, quarantine.record_key
    from quarantine
    -- fact_strain names its day's primary cycle; assert_strain_day_covers_its_clean_cycles
    -- checks that the day's other cycles are clean too
    inner join {{ ref('fact_strain') }} as facts
        on quarantine.record_key = cast(facts.cycle_id as varchar)
    where quarantine.resource = 'cycle'
    union all
    select quarantine.resource, quarantine.record_key
    from quarantine
    inner join {{ ref('fact_sleep') }} as facts
        on quarantine.record_key = facts.sleep_id
    where quarantine.resource = 'sleep'
    union all
    select quarantine.resource, quarantine.record_key
    from quarantine
    inner join {{ ref('fact_workouts') }} as facts
        on quarantine.record_key = facts.workout_id
    where quarantine.resource = 'workout'
)

select * from leaks
