-- Ad-hoc: how yesterday's day strain relates to today's recovery per user (the real-data
-- profile expects a correlation near -0.27). Compile with `dbt compile --select recovery_vs_previous_day_strain`.
with

recoveries as (
    select * from {{ ref('fact_daily_recovery') }}
),

strain as (
    select * from {{ ref('fact_strain') }}
),

dates as (
    select * from {{ ref('dim_date') }}
),

paired as (
    select
        recoveries.user_key,
        recoveries.recovery_score,
        strain.day_strain_score as previous_day_strain
    from recoveries
    inner join dates as today on recoveries.date_key = today.date_key
    inner join dates as yesterday
        on yesterday.full_date = {{ dbt.dateadd('day', -1, 'today.full_date') }}
    inner join strain
        on
            recoveries.user_key = strain.user_key
            and strain.date_key = yesterday.date_key
)

select
    user_key,
    count(*) as n_days,
    corr(recovery_score, previous_day_strain) as corr_recovery_previous_strain
from paired
group by user_key
