{#- The stages WHOOP's stage summary reports; fact_sleep has one *_minutes column per stage. -#}
with

stages as (
    select
        1 as sleep_stage_key,
        'awake' as stage_name,
        false as is_asleep,
        1 as sort_order
    union all
    select
        2 as sleep_stage_key,
        'light' as stage_name,
        true as is_asleep,
        2 as sort_order
    union all
    select
        3 as sleep_stage_key,
        'deep' as stage_name,
        true as is_asleep,
        3 as sort_order
    union all
    select
        4 as sleep_stage_key,
        'rem' as stage_name,
        true as is_asleep,
        4 as sort_order
    union all
    select
        5 as sleep_stage_key,
        'no_data' as stage_name,
        false as is_asleep,
        5 as sort_order
),

final as (
    select
        cast(sleep_stage_key as integer) as sleep_stage_key,
        cast(stage_name as varchar) as stage_name,
        is_asleep,
        cast(sort_order as integer) as sort_order
    from stages
)

select * from final
