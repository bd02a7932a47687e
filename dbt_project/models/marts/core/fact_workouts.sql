{{
    config(
        materialized='incremental',
        unique_key='workout_id',
        pre_hook=["{{ delete_touched_keys('workout_id', 'workout') }}"],
    )
}}
-- depends_on: {{ ref('int_whoop__touched_keys') }}

with

workouts as (
    select * from {{ ref('int_workouts_day_assigned') }}
),

quarantined as (
    select record_key from {{ ref('int_whoop__quarantine') }}
    where resource = 'workout'
),

{% if is_incremental() %}
touched as (
    select record_key from {{ ref('int_whoop__touched_keys') }}
    where key_kind = 'workout'
),
{% endif %}

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
        and workouts.workout_id not in (select quarantined.record_key from quarantined)
    {% if is_incremental() %}
            and workouts.workout_id in (select touched.record_key from touched)
        {% endif %}
)

select * from final
