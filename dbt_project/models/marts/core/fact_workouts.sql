{{ touched_keys_incremental_config('workout_id', 'workout') }}

with

workouts as (
    select * from {{ ref('int_workouts_day_assigned') }}
),

{{ touched_keys_ctes('workout', 'workout') }}

final as (
    select
        cast(workouts.user_id as bigint) as user_key,
        cast(workouts.date_key as integer) as date_key,
        cast(workouts.workout_id as varchar) as workout_id,
        cast(workouts.activity_type_key as integer) as activity_type_key,
        workouts.sport_name,
        workouts.start_at_utc,
        workouts.end_at_utc,
        workouts.duration_minutes,
        workouts.strain,
        workouts.average_heart_rate_bpm,
        workouts.max_heart_rate_bpm,
        workouts.energy_kilojoule as kilojoule,
        workouts.energy_kilocalories as kilocalories,
        workouts.percent_recorded,
        workouts.distance_meter,
        workouts.altitude_gain_meter,
        workouts.altitude_change_meter,
        workouts.zone_zero_minutes,
        {{ numeric_array([
            'workouts.zone_one_minutes',
            'workouts.zone_two_minutes',
            'workouts.zone_three_minutes',
            'workouts.zone_four_minutes',
            'workouts.zone_five_minutes',
        ]) }} as zone_duration_minutes,
        workouts.updated_at
    from workouts
    where
        workouts.score_state = 'SCORED'
        and {{ touched_keys_filter('workouts.workout_id') }}
)

select * from final
