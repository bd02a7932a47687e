{#- One row per user and day (docs/data-model.md, "Strain day rule"). Two cycles can share a
    wake day (one with the main sleep, one without a main sleep whose start + 12 h falls on the
    same date), so the day aggregates its cycles: energy summed, max HR the max, average HR
    weighted by the duration of the closed cycles (the primary's when none is closed), and
    day_strain_score is the primary cycle's strain, since WHOOP strain is logarithmic and never
    adds up. Primary: the cycle holding the main sleep, else the longest (open last), else the
    latest start. Incremental per user: the pre-hook deletes every row of a user with a touched
    cycle or sleep and this rebuilds all of that user's days (a day's cycles can move in or
    out, and the old day is not recorded anywhere). -#}
{{ touched_keys_incremental_config('strain_id', 'strain_user', delete_column='user_key') }}

with

cycles as (
    select * from {{ ref('int_cycles_day_assigned') }}
),

{{ touched_keys_ctes('cycle', 'strain_user') }}

clean as (
    select
        cycles.*,
        {{ datediff_minutes('cycles.start_at_utc', 'cycles.end_at_utc') }} as cycle_minutes
    from cycles
    where
        {{ touched_keys_filter(
            'cast(cycles.cycle_id as varchar)', 'cast(cycles.user_id as varchar)'
        ) }}
),

ranked as (
    select
        clean.*,
        row_number() over (
            partition by clean.user_id, clean.date_key
            order by
                case when clean.has_main_sleep then 0 else 1 end,
                clean.cycle_minutes desc nulls last,
                clean.start_at_utc desc,
                clean.cycle_id desc
        ) as day_rank
    from clean
),

days as (
    select
        user_id,
        date_key,
        count(*) as cycle_count,
        sum(energy_kilojoule) as kilojoule,
        sum(energy_kilocalories) as calories_burned,
        sum(average_heart_rate_bpm * cycle_minutes)
        / nullif(
            sum(case when average_heart_rate_bpm is not null then cycle_minutes end), 0
        ) as weighted_heart_rate_bpm,
        max(max_heart_rate_bpm) as max_heart_rate_bpm,
        max(updated_at) as updated_at,
        max(load_timestamp) as load_timestamp
    from clean
    group by
        user_id,
        date_key
),

primary_days as (
    select
        ranked.*,
        days.cycle_count,
        days.kilojoule as day_kilojoule,
        days.calories_burned,
        days.max_heart_rate_bpm as day_max_heart_rate_bpm,
        days.updated_at as day_updated_at,
        days.load_timestamp as day_load_timestamp,
        md5(
            'strain|' || cast(ranked.user_id as varchar) || '|' || cast(ranked.date_key as varchar)
        ) as strain_id,
        coalesce(days.weighted_heart_rate_bpm, ranked.average_heart_rate_bpm)
            as day_heart_rate_bpm
    from ranked
    inner join days
        on
            ranked.user_id = days.user_id
            and ranked.date_key = days.date_key
    where ranked.day_rank = 1
),

final as (
    select
        primary_days.strain_id,
        cast(primary_days.user_id as bigint) as user_key,
        cast(primary_days.date_key as integer) as date_key,
        cast(primary_days.cycle_id as bigint) as cycle_id,
        cast(primary_days.cycle_count as integer) as cycle_count,
        primary_days.start_at_utc as cycle_start_timestamp,
        primary_days.end_at_utc as cycle_end_timestamp,
        primary_days.is_open,
        primary_days.timezone_offset,
        cast(primary_days.score_state as varchar) as score_state,
        primary_days.day_strain as day_strain_score,
        primary_days.day_kilojoule as kilojoule,
        primary_days.calories_burned,
        primary_days.day_heart_rate_bpm as avg_heart_rate_bpm,
        primary_days.day_max_heart_rate_bpm as max_heart_rate_bpm,
        primary_days.day_updated_at as updated_at,
        primary_days.day_load_timestamp as load_timestamp
    from primary_days
)

select * from final
