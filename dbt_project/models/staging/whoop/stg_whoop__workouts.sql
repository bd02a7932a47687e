with

live as (
    {{ whoop_live_records(source('whoop', 'raw_workout')) }}
),

renamed as (
    select
        ---------- ids
        cast(record_id as varchar) as workout_id,
        record_id,
        cast(user_id as bigint) as user_id,
        {{ json_get_bigint('payload', 'sport_id') }} as legacy_sport_id,

        ---------- strings
        {{ json_get_text('payload', 'sport_name') }} as sport_slug,
        {{ json_get_text('payload', 'score_state') }} as score_state,
        {{ json_get_text('payload', 'timezone_offset') }} as timezone_offset,

        ---------- numerics (unit in the name)
        {{ offset_to_minutes(json_get_text('payload', 'timezone_offset')) }}
            as timezone_offset_minutes,
        {{ json_get_number('payload', 'score.strain') }} as strain,
        {{ json_get_number('payload', 'score.average_heart_rate') }}
            as average_heart_rate_bpm,
        {{ json_get_number('payload', 'score.max_heart_rate') }} as max_heart_rate_bpm,
        {{ json_get_number('payload', 'score.kilojoule') }} as energy_kilojoule,
        {{ json_get_number('payload', 'score.percent_recorded') }} as percent_recorded,
        {{ json_get_number('payload', 'score.distance_meter') }} as distance_meter,
        {{ json_get_number('payload', 'score.altitude_gain_meter') }} as altitude_gain_meter,
        {{ json_get_number('payload', 'score.altitude_change_meter') }}
            as altitude_change_meter,
        {{ json_get_number('payload', 'score.zone_durations.zone_zero_milli') }}
            as zone_zero_ms,
        {{ json_get_number('payload', 'score.zone_durations.zone_one_milli') }} as zone_one_ms,
        {{ json_get_number('payload', 'score.zone_durations.zone_two_milli') }} as zone_two_ms,
        {{ json_get_number('payload', 'score.zone_durations.zone_three_milli') }}
            as zone_three_ms,
        {{ json_get_number('payload', 'score.zone_durations.zone_four_milli') }}
            as zone_four_ms,
        {{ json_get_number('payload', 'score.zone_durations.zone_five_milli') }}
            as zone_five_ms,

        ---------- timestamps (UTC)
        {{ parse_utc_timestamp(json_get_text('payload', 'start')) }} as start_at_utc,
        {{ parse_utc_timestamp(json_get_text('payload', 'end')) }} as end_at_utc,
        {{ parse_utc_timestamp(json_get_text('payload', 'created_at')) }} as created_at,
        updated_at,

        ---------- fields whose value does not parse (the record goes to the quarantine)
        {{ unparsable_fields([
            ('id', 'record_id', 'uuid'),
            json_field('sport_id', 'bigint'),
            json_field('timezone_offset', 'tz_offset'),
            json_field('score.strain', 'double'),
            json_field('score.average_heart_rate', 'double'),
            json_field('score.max_heart_rate', 'double'),
            json_field('score.kilojoule', 'double'),
            json_field('score.percent_recorded', 'double'),
            json_field('score.distance_meter', 'double'),
            json_field('score.altitude_gain_meter', 'double'),
            json_field('score.altitude_change_meter', 'double'),
            json_field('score.zone_durations.zone_zero_milli', 'double'),
            json_field('score.zone_durations.zone_one_milli', 'double'),
            json_field('score.zone_durations.zone_two_milli', 'double'),
            json_field('score.zone_durations.zone_three_milli', 'double'),
            json_field('score.zone_durations.zone_four_milli', 'double'),
            json_field('score.zone_durations.zone_five_milli', 'double'),
            json_field('start', 'timestamp'),
            json_field('end', 'timestamp'),
            json_field('created_at', 'timestamp'),
        ]) }} as unparsable_fields,

        ---------- lineage
        load_timestamp,
        source_file,
        batch_id
    from live
)

select * from renamed
