{{ touched_keys_incremental_config('cycle_id', 'cycle') }}

with

cycles as (
    select * from {{ ref('int_cycles_day_assigned') }}
),

{{ touched_keys_ctes('cycle', 'cycle') }}

final as (
    select
        cast(cycles.user_id as bigint) as user_key,
        cast(cycles.date_key as integer) as date_key,
        cast(cycles.cycle_id as bigint) as cycle_id,
        cycles.start_at_utc,
        cycles.end_at_utc,
        cycles.is_open,
        cycles.timezone_offset,
        cycles.day_strain,
        cycles.energy_kilojoule as kilojoule,
        cycles.energy_kilocalories as kilocalories,
        cycles.average_heart_rate_bpm,
        cycles.max_heart_rate_bpm,
        cycles.score_state,
        cycles.updated_at
    from cycles
    where
        {{ touched_keys_filter('cast(cycles.cycle_id as varchar)') }}
)

select * from final
