{{
    config(
        materialized='incremental',
        unique_key='sleep_id',
        pre_hook=["{{ delete_touched_keys('sleep_id', 'sleep') }}"],
    )
}}
-- depends_on: {{ ref('int_whoop__touched_keys') }}

with

sleeps as (
    select * from {{ ref('int_sleeps_day_assigned') }}
),

quarantined as (
    select record_key from {{ ref('int_whoop__quarantine') }}
    where resource = 'sleep'
),

{% if is_incremental() %}
touched as (
    select record_key from {{ ref('int_whoop__touched_keys') }}
    where key_kind = 'sleep'
),
{% endif %}

final as (
    select
        cast(sleeps.user_id as bigint) as user_key,
        cast(sleeps.date_key as integer) as date_key,
        cast(sleeps.sleep_id as varchar) as sleep_id,
        cast(sleeps.cycle_id as bigint) as cycle_id,
        sleeps.is_nap,
        sleeps.start_at_utc,
        sleeps.end_at_utc,
        sleeps.start_at_local,
        sleeps.end_at_local,
        sleeps.timezone_offset,
        sleeps.in_bed_minutes,
        sleeps.awake_minutes,
        sleeps.light_sleep_minutes,
        sleeps.deep_sleep_minutes,
        sleeps.rem_sleep_minutes,
        sleeps.no_data_minutes,
        sleeps.asleep_minutes,
        sleeps.sleep_efficiency_percentage,
        sleeps.sleep_performance_percentage,
        sleeps.sleep_consistency_percentage,
        sleeps.respiratory_rate_rpm as respiratory_rate,
        cast(sleeps.disturbance_count as integer) as disturbance_count,
        cast(sleeps.sleep_cycle_count as integer) as sleep_cycle_count,
        sleeps.sleep_need_minutes,
        sleeps.sleep_debt_minutes,
        sleeps.updated_at
    from sleeps
    where
        sleeps.score_state = 'SCORED'
        and sleeps.sleep_id not in (select quarantined.record_key from quarantined)
    {% if is_incremental() %}
            and sleeps.sleep_id in (select touched.record_key from touched)
        {% endif %}
)

select * from final
