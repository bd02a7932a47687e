{{
    config(
        materialized='incremental',
        unique_key='cycle_id',
        pre_hook=["{{ delete_touched_keys('cycle_id', 'cycle') }}"],
    )
}}
-- depends_on: {{ ref('int_whoop__touched_keys') }}

with

cycles as (
    select * from {{ ref('int_cycles_day_assigned') }}
),

quarantined as (
    select record_key from {{ ref('int_whoop__quarantine') }}
    where resource = 'cycle'
),

{% if is_incremental() %}
touched as (
    select record_key from {{ ref('int_whoop__touched_keys') }}
    where key_kind = 'cycle'
),
{% endif %}

final as (
    select
        cast(cycles.user_id as bigint) as user_key,
        cast(cycles.date_key as integer) as date_key,
        cast(cycles.cycle_id as bigint) as cycle_id,
        cycles.start_at_utc,
        cycles.end_at_utc,
        cycles.is_open,
        cycles.timezone_offset,
        cycles.day_strain,
        cycles.energy_kilojoule as kilojoule,
        cycles.energy_kilocalories as kilocalories,
        cycles.average_heart_rate_bpm,
        cycles.max_heart_rate_bpm,
        cycles.score_state,
        cycles.updated_at
    from cycles
    where
        cast(cycles.cycle_id as varchar) not in (
            select quarantined.record_key from quarantined
        )
    {% if is_incremental() %}
            and cast(cycles.cycle_id as varchar) in (
                select touched.record_key from touched
            )
        {% endif %}
)

select * from final
