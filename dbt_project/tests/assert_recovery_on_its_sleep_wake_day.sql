-- A recovery belongs to the wake day of its sleep. That sleep may be a nap: WHOOP scores a
-- nap when it is the cycle's only sleep, and on some days gives a nap a second recovery for a
-- cycle that already has one (docs/data-model.md). Then the cycle's recovery in gold must be
-- the main sleep's, never the nap's.
with

recoveries as (
    select * from {{ ref('fact_daily_recovery') }}
),

sleeps as (
    select * from {{ ref('fact_sleep') }}
),

cycles_with_main_sleep_recovery as (
    select distinct silver_recoveries.cycle_id
    from {{ ref('stg_whoop__recoveries') }} as silver_recoveries
    inner join {{ ref('int_sleeps_day_assigned') }} as silver_sleeps
        on silver_recoveries.sleep_id = silver_sleeps.sleep_id
    where
        silver_recoveries.unparsable_fields is null
        and silver_recoveries.score_state = 'SCORED'
        and not silver_sleeps.is_nap
)

select
    recoveries.cycle_id,
    recoveries.sleep_id,
    recoveries.date_key as recovery_date_key,
    sleeps.date_key as sleep_date_key,
    sleeps.is_nap
from recoveries
inner join sleeps
    on recoveries.sleep_id = sleeps.sleep_id
left join cycles_with_main_sleep_recovery as main_recovered
    on recoveries.cycle_id = main_recovered.cycle_id
where
    recoveries.date_key != sleeps.date_key
    or (sleeps.is_nap and main_recovered.cycle_id is not null)
