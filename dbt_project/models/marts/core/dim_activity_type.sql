with

activity_types as (
    select * from {{ ref('int_activity_types') }}
),

final as (
    select
        activity_type_key,
        sport_name,
        sport_slug,
        category
    from activity_types
)

select * from final
