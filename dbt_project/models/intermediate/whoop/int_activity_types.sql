with

sports as (
    select * from {{ ref('whoop_sports') }}
),

final as (
    select
        cast(sport_id as integer) as activity_type_key,
        cast(sport_name as varchar) as sport_name,
        {{ normalise_sport_name('sport_name') }} as sport_match_name,
        replace({{ normalise_sport_name('sport_name') }}, ' ', '_') as sport_slug,
        cast(category as varchar) as category
    from sports
)

select * from final
