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

        ---------- lineage
        load_timestamp,
        source_file
    from latest
)

select * from renamed
