{{
    config(
        materialized='incremental',
        unique_key='cycle_id',
        pre_hook=["{{ delete_touched_keys('cycle_id', 'cycle') }}"],
    )
}}
-- depends_on: {{ ref('int_whoop__touched_keys') }}

with

recoveries as (
    select * from {{ ref('int_recoveries_day_assigned') }}
),

quarantined as (
    select record_key from {{ ref('int_whoop__quarantine') }}
    where resource = 'recovery'
),

{% if is_incremental() %}
touched as (
    select record_key from {{ ref('int_whoop__touched_keys') }}
    where key_kind = 'cycle'
),
{% endif %}

final as (
    select
        cast(recoveries.user_id as bigint) as user_key,
        cast(recoveries.date_key as integer) as date_key,
        cast(recoveries.cycle_id as bigint) as cycle_id,
        cast(recoveries.sleep_id as varchar) as sleep_id,
        recoveries.recovery_score,
        recoveries.recovery_band,
        recoveries.hrv_rmssd_ms,
        recoveries.resting_heart_rate_bpm,
        recoveries.spo2_percentage,
        recoveries.skin_temp_celsius,
        recoveries.is_user_calibrating as user_calibrating,
        recoveries.updated_at
    from recoveries
    where
        recoveries.score_state = 'SCORED'
        and cast(recoveries.cycle_id as varchar) not in (
            select quarantined.record_key from quarantined
        )
    {% if is_incremental() %}
            and cast(recoveries.cycle_id as varchar) in (
                select touched.record_key from touched
            )
        {% endif %}
)

select * from final
