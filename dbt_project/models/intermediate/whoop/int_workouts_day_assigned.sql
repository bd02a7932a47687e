with

workouts as (
    -- a record with an unparsable field is in int_whoop__quarantine, not here
    select * from {{ ref('stg_whoop__workouts') }}
    where unparsable_fields is null
),

sports as (
    select * from {{ ref('int_activity_types') }}
),

normalised as (
    select
        *,
        {{ normalise_sport_name('sport_slug') }} as sport_match_name,
        {{ to_local('start_at_utc', 'timezone_offset_minutes') }} as start_at_local
    from workouts
),

assigned as (
    select
        normalised.workout_id,
        normalised.user_id,
        normalised.score_state,
        coalesce(sports.activity_type_key, -1) as activity_type_key,
        normalised.sport_slug as sport_name,
        normalised.start_at_utc,
        normalised.end_at_utc,
        normalised.start_at_local,
        normalised.timezone_offset,
        -- a workout belongs to the local date of its start
        cast(normalised.start_at_local as date) as workout_date,
        {{ date_key('cast(normalised.start_at_local as date)') }} as date_key,
        {{ datediff_minutes('normalised.start_at_utc', 'normalised.end_at_utc') }}
            as duration_minutes,
        normalised.strain,
        normalised.average_heart_rate_bpm,
        normalised.max_heart_rate_bpm,
        normalised.energy_kilojoule,
        {{ kj_to_kcal('normalised.energy_kilojoule') }} as energy_kilocalories,
        normalised.percent_recorded,
        normalised.distance_meter,
        normalised.altitude_gain_meter,
        normalised.altitude_change_meter,
        {{ ms_to_minutes('normalised.zone_zero_ms') }} as zone_zero_minutes,
        {{ ms_to_minutes('normalised.zone_one_ms') }} as zone_one_minutes,
        {{ ms_to_minutes('normalised.zone_two_ms') }} as zone_two_minutes,
        {{ ms_to_minutes('normalised.zone_three_ms') }} as zone_three_minutes,
        {{ ms_to_minutes('normalised.zone_four_ms') }} as zone_four_minutes,
        {{ ms_to_minutes('normalised.zone_five_ms') }} as zone_five_minutes,
        normalised.updated_at,
        normalised.load_timestamp
    from normalised
    left join sports on normalised.sport_match_name = sports.sport_match_name
)

select * from assigned
