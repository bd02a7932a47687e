with

latest as (
    -- profiles have no updated_at of their own; the loader stores the fetch time there
    {{ whoop_latest_records(source('whoop', 'raw_profile')) }}
),

renamed as (
    select
        ---------- ids
        cast(user_id as bigint) as user_id,

        ---------- strings
        {{ json_get_text('payload', 'email') }} as email,
        {{ json_get_text('payload', 'first_name') }} as first_name,
        {{ json_get_text('payload', 'last_name') }} as last_name,

        ---------- timestamps (UTC)
        updated_at as fetched_at,

        ---------- lineage
        load_timestamp,
        source_file
    from latest
)

select * from renamed
