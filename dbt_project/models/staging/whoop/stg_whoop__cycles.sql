with

live as (
    {{ whoop_live_records(source('whoop', 'raw_cycle')) }}
),

renamed as (
    select
        ---------- ids
        {{ safe_to_bigint('record_id') }} as cycle_id,
        record_id,
        cast(user_id as bigint) as user_id,

        ---------- strings
        {{ json_get_text('payload', 'score_state') }} as score_state,
        {{ json_get_text('payload', 'timezone_offset') }} as timezone_offset,

        ---------- numerics (unit in the name)
        {{ offset_to_minutes(json_get_text('payload', 'timezone_offset')) }}
            as timezone_offset_minutes,
        {{ json_get_number('payload', 'score.strain') }} as day_strain,
        {{ json_get_number('payload', 'score.kilojoule') }} as energy_kilojoule,
        {{ json_get_number('payload', 'score.average_heart_rate') }}
            as average_heart_rate_bpm,
        {{ json_get_number('payload', 'score.max_heart_rate') }} as max_heart_rate_bpm,

        ---------- timestamps (UTC)
        {{ parse_utc_timestamp(json_get_text('payload', 'start')) }} as start_at_utc,
        {{ parse_utc_timestamp(json_get_text('payload', 'end')) }} as end_at_utc,
        {{ parse_utc_timestamp(json_get_text('payload', 'created_at')) }} as created_at,
        updated_at,

        ---------- fields whose value does not parse (the record goes to the quarantine)
        {{ unparsable_fields([
            ('id', 'record_id', 'bigint'),
            json_field('timezone_offset', 'tz_offset'),
            json_field('score.strain', 'double'),
            json_field('score.kilojoule', 'double'),
            json_field('score.average_heart_rate', 'double'),
            json_field('score.max_heart_rate', 'double'),
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
