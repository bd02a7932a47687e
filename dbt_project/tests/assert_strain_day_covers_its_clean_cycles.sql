-- fact_strain has one row per user and day aggregating exactly that day's DQ-clean cycles
-- (docs/data-model.md, "Strain day rule"): every such day has a row, and its cycle_count
-- counts neither a quarantined cycle nor one of another day.
with

clean_days as (
    select
        cycles.user_id,
        cycles.date_key,
        count(*) as cycle_count
    from {{ ref('int_cycles_day_assigned') }} as cycles
    where cast(cycles.cycle_id as varchar) not in (
        select quarantine.record_key
        from {{ ref('int_whoop__quarantine') }} as quarantine
        where quarantine.resource = 'cycle'
    )
    group by
        cycles.user_id,
        cycles.date_key
)

select
    clean_days.user_id,
    clean_days.date_key,
    clean_days.cycle_count as expected_cycle_count,
    strain.cycle_count
from clean_days
full outer join {{ ref('fact_strain') }} as strain
    on
        clean_days.user_id = strain.user_key
        and clean_days.date_key = strain.date_key
where
    clean_days.cycle_count is null
    or strain.cycle_count is null
    or clean_days.cycle_count != strain.cycle_count
