with

activity_types as (
    select * from {{ ref('int_activity_types') }}
),

final as (
    select
        -- the sport id is stable and unique, so it is also the key
        activity_type_key,
        activity_type_key as activity_type_id,
        sport_name as activity_name,
        category as activity_category,
        sport_slug
    from activity_types
)

select * from final
