-- A recovery belongs to the wake day of its sleep, and a nap never produces a recovery.
select
    recoveries.cycle_id,
    recoveries.date_key as recovery_date_key,
    sleeps.date_key as sleep_date_key,
    sleeps.is_nap
from {{ ref('fact_daily_recovery') }} as recoveries
inner join {{ ref('fact_sleep') }} as sleeps
    on recoveries.sleep_id = sleeps.sleep_id
where recoveries.date_key != sleeps.date_key or sleeps.is_nap
