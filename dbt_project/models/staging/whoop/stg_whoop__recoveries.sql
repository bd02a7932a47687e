with

source as (
    select * from {{ source('whoop', 'raw_recovery') }}
),

records as (
    select
        *,
        {{ json_get_text('payload', 'sleep_id') }} as payload_sleep_id
    from source
    where not is_tombstone
    qualify row_number() over (
        partition by record_id
        order by updated_at desc, load_timestamp desc, source_file desc, line_number desc
    ) = 1
),

tombstones as (
    -- WHOOP's recovery.deleted carries the sleep UUID, so recovery tombstones are keyed by
    -- sleep_id (record_id holds the tombstone's `key`)
    select
        record_id as sleep_id,
        max(updated_at) as deleted_at
    from source
    where is_tombstone
    group by record_id
),

live as (
    -- a record re-created after its delete (updated_at later than deleted_at) wins
    select records.*
    from records
    left join tombstones on records.payload_sleep_id = tombstones.sleep_id
    where tombstones.deleted_at is null or records.updated_at > tombstones.deleted_at
),

renamed as (
    select
        ---------- ids
        cast(record_id as bigint) as cycle_id,
        payload_sleep_id as sleep_id,
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
