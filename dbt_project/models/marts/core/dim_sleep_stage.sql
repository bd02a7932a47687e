{#- The stages of WHOOP's stage summary; fact_sleep has one *_minutes column per stage
    (no_data_minutes is the strap's missing signal, not a stage). -#}
with

stages as (
    select
        1 as sleep_stage_key,
        'Awake' as sleep_stage_name,
        'Awake while in bed (fact_sleep.awake_minutes).' as sleep_stage_description,
        false as is_asleep,
        1 as sort_order
    union all
    select
        2 as sleep_stage_key,
        'Light' as sleep_stage_name,
        'Light sleep (fact_sleep.light_sleep_minutes).' as sleep_stage_description,
        true as is_asleep,
        2 as sort_order
    union all
    select
        3 as sleep_stage_key,
        'Deep' as sleep_stage_name,
        'Slow-wave sleep (fact_sleep.deep_sleep_minutes).' as sleep_stage_description,
        true as is_asleep,
        3 as sort_order
    union all
    select
        4 as sleep_stage_key,
        'REM' as sleep_stage_name,
        'Rapid-eye-movement sleep (fact_sleep.rem_sleep_minutes).' as sleep_stage_description,
        true as is_asleep,
        4 as sort_order
),

final as (
    select
        cast(sleep_stage_key as integer) as sleep_stage_key,
        cast(sleep_stage_name as varchar) as sleep_stage_name,
        cast(sleep_stage_description as varchar) as sleep_stage_description,
        is_asleep,
        cast(sort_order as integer) as sort_order
    from stages
)

select * from final
