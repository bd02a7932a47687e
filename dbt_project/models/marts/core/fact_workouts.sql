{#- Every DQ-clean workout; unscored ones (score_state) keep their times and null scores. -#}
{{ touched_keys_incremental_config('workout_id', 'workout') }}

with

workouts as (
    select
        *,
        -- an unscored workout has no zone durations: null, not an array of nulls
        case
            when score_state = 'SCORED'
                then {{ numeric_array([
                    'zone_one_minutes',
                    'zone_two_minutes',
                    'zone_three_minutes',
                    'zone_four_minutes',
                    'zone_five_minutes',
                ]) }}
        end as zone_duration_minutes
    from {{ ref('int_workouts_day_assigned') }}
),

{{ touched_keys_ctes('workout', 'workout') }}

final as (
    select
        cast(workouts.workout_id as varchar) as workout_id,
        cast(workouts.user_id as bigint) as user_key,
        cast(workouts.date_key as integer) as date_key,
        cast(workouts.activity_type_key as integer) as activity_type_key,
        workouts.sport_name,
        cast(workouts.score_state as varchar) as score_state,
        workouts.start_at_utc as workout_start_timestamp,
        workouts.end_at_utc as workout_end_timestamp,
        workouts.duration_minutes,
        workouts.strain as strain_score,
        workouts.average_heart_rate_bpm as avg_heart_rate_bpm,
        workouts.max_heart_rate_bpm,
        workouts.energy_kilojoule as kilojoule,
        workouts.energy_kilocalories as calories_burned,
        workouts.percent_recorded,
        workouts.distance_meter as distance_meters,
        workouts.altitude_gain_meter as altitude_gain_meters,
        workouts.altitude_change_meter as altitude_change_meters,
        workouts.zone_zero_minutes,
        workouts.zone_duration_minutes,
        workouts.updated_at,
        workouts.load_timestamp
    from workouts
    where {{ touched_keys_filter('workouts.workout_id') }}
)

select * from final
