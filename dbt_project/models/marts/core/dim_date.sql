with

spine as (
    {{ date_spine(var('date_spine_start'), var('date_spine_end')) }}
),

holidays as (
    select distinct cast(holiday_date as date) as holiday_date
    from {{ ref('us_federal_holidays') }}
),

final as (
    select
        {{ date_key('spine.calendar_date') }} as date_key,
        spine.calendar_date as full_date,
        cast(extract(year from spine.calendar_date) as integer) as year,
        cast(extract(quarter from spine.calendar_date) as integer) as quarter,
        cast(extract(month from spine.calendar_date) as integer) as month,
        cast(extract(day from spine.calendar_date) as integer) as day,
        {{ iso_day_of_week('spine.calendar_date') }} as day_of_week,
        {{ day_name('spine.calendar_date') }} as day_name,
        {{ iso_week_of_year('spine.calendar_date') }} as week_of_year,
        {{ iso_day_of_week('spine.calendar_date') }} >= 6 as is_weekend,
        holidays.holiday_date is not null as is_holiday
    from spine
    left join holidays on spine.calendar_date = holidays.holiday_date
)

select * from final
