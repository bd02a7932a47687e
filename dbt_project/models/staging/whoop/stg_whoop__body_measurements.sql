with

latest as (
    -- WHOOP keeps one current measurement per member; the latest fetch is the truth
    {{ whoop_latest_records(source('whoop', 'raw_body_measurement')) }}
),

renamed as (
    select
        ---------- ids
        cast(user_id as bigint) as user_id,

        ---------- numerics (unit in the name)
        {{ json_get_number('payload', 'height_meter') }} as height_meter,
        {{ json_get_number('payload', 'weight_kilogram') }} as weight_kilogram,
        {{ json_get_number('payload', 'max_heart_rate') }} as max_heart_rate_bpm,

        ---------- timestamps (UTC)
        updated_at as fetched_at,

        ---------- fields whose value does not parse (the record goes to the quarantine)
        {{ unparsable_fields([
            json_field('height_meter', 'double'),
            json_field('weight_kilogram', 'double'),
            json_field('max_heart_rate', 'double'),
        ]) }} as unparsable_fields,

        ---------- lineage
        load_timestamp,
        source_file
    from latest
)

select * from renamed
