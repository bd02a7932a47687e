with

live as (
    -- WHOOP's recovery.deleted carries the sleep UUID, so recovery tombstones are keyed by
    -- sleep_id (a tombstone's record_id holds its `key`)
    {{ whoop_live_records(source('whoop', 'raw_recovery'), tombstone_key_path='sleep_id') }}
),

renamed as (
    select
        ---------- ids
        cast(record_id as bigint) as cycle_id,
        {{ json_get_text('payload', 'sleep_id') }} as sleep_id,
        cast(user_id as bigint) as user_id,

        ---------- strings and flags
        {{ json_get_text('payload', 'score_state') }} as score_state,
        {{ json_get_bool('payload', 'score.user_calibrating') }} as is_user_calibrating,

        ---------- numerics (unit in the name)
        {{ json_get_number('payload', 'score.recovery_score') }} as recovery_score,
        {{ json_get_number('payload', 'score.resting_heart_rate') }}
            as resting_heart_rate_bpm,
        {{ json_get_number('payload', 'score.hrv_rmssd_milli') }} as hrv_rmssd_ms,
        {{ json_get_number('payload', 'score.spo2_percentage') }} as spo2_percentage,
        {{ json_get_number('payload', 'score.skin_temp_celsius') }} as skin_temp_celsius,

        ---------- timestamps (UTC)
        {{ parse_utc_timestamp(json_get_text('payload', 'created_at')) }} as created_at,
        updated_at,

        ---------- lineage
        load_timestamp,
        source_file,
        batch_id
    from live
)

select * from renamed
