with

-- WHOOP's recovery.deleted carries the sleep UUID, so recovery tombstones are keyed by
-- sleep_id (a tombstone's record_id holds its `key`). A recovery is identified by
-- (cycle, sleep): WHOOP can give a nap a recovery of its own in a cycle that has one
live as (
    {{ whoop_live_records(
        source('whoop', 'raw_recovery'),
        tombstone_key_path='sleep_id',
        partition_by='record_id, ' ~ json_get_text('payload', 'sleep_id')
    ) }}
),

renamed as (
    select
        ---------- ids
        {{ safe_to_bigint('record_id') }} as cycle_id,
        record_id,
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

        ---------- fields whose value does not parse (the record goes to the quarantine)
        {{ unparsable_fields([
            ('cycle_id', 'record_id', 'bigint'),
            json_field('sleep_id', 'uuid'),
            json_field('score.user_calibrating', 'boolean'),
            json_field('score.recovery_score', 'double'),
            json_field('score.resting_heart_rate', 'double'),
            json_field('score.hrv_rmssd_milli', 'double'),
            json_field('score.spo2_percentage', 'double'),
            json_field('score.skin_temp_celsius', 'double'),
            json_field('created_at', 'timestamp'),
        ]) }} as unparsable_fields,

        ---------- lineage
        load_timestamp,
        source_file,
        batch_id
    from live
)

select * from renamed
