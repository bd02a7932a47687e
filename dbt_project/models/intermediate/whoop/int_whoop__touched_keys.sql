{#- Keys whose gold rows may have changed in this run: every key with a bronze row loaded
    inside the lookback window, mapped to the key of each fact it feeds. Incremental facts
    delete these keys first and re-insert whatever still exists, so tombstones, re-scores and
    day re-assignments all propagate. fact_strain aggregates a user's cycles per day, so a
    touched cycle or sleep (a sleep moves its cycle's day) touches its user (`strain_user`). -#}
with

recent_cycles as (
    select
        record_id,
        user_id
    from {{ source('whoop', 'raw_cycle') }}
    where load_timestamp >= {{ lookback_cutoff() }}
),

recent_sleeps as (
    select
        record_id,
        user_id
    from {{ source('whoop', 'raw_sleep') }}
    where load_timestamp >= {{ lookback_cutoff() }}
),

recent_recoveries as (
    select
        record_id,
        is_tombstone
    from {{ source('whoop', 'raw_recovery') }}
    where load_timestamp >= {{ lookback_cutoff() }}
),

recent_workouts as (
    select record_id from {{ source('whoop', 'raw_workout') }}
    where load_timestamp >= {{ lookback_cutoff() }}
),

sleep_history as (
    -- every cycle a touched sleep ever pointed at (tombstones carry no cycle_id; a cycle_id
    -- that does not parse points at no cycle)
    select distinct
        raw_sleep.record_id as sleep_id,
        cast({{ json_get_bigint('raw_sleep.payload', 'cycle_id') }} as varchar) as cycle_id
    from {{ source('whoop', 'raw_sleep') }} as raw_sleep
    where
        not raw_sleep.is_tombstone
        and {{ json_get_bigint('raw_sleep.payload', 'cycle_id') }} is not null
),

recovery_history as (
    select distinct
        raw_recovery.record_id as cycle_id,
        {{ json_get_text('raw_recovery.payload', 'sleep_id') }} as sleep_id
    from {{ source('whoop', 'raw_recovery') }} as raw_recovery
    where not raw_recovery.is_tombstone
),

touched_sleep_ids as (
    select distinct record_id as sleep_id from recent_sleeps
),

touched_cycle_ids as (
    select record_id as cycle_id from recent_cycles
    union distinct
    select record_id as cycle_id from recent_recoveries
    where not is_tombstone
    union distinct
    select recovery_history.cycle_id
    from recent_recoveries
    inner join recovery_history on recent_recoveries.record_id = recovery_history.sleep_id
    where recent_recoveries.is_tombstone
    union distinct
    select sleep_history.cycle_id
    from touched_sleep_ids
    inner join sleep_history on touched_sleep_ids.sleep_id = sleep_history.sleep_id
    union distinct
    -- a recovery's day follows its sleep, so a touched sleep touches that recovery's cycle
    select recovery_history.cycle_id
    from touched_sleep_ids
    inner join recovery_history on touched_sleep_ids.sleep_id = recovery_history.sleep_id
),

keys as (
    select
        'sleep' as key_kind,
        cast(sleep_id as varchar) as record_key
    from touched_sleep_ids
    union all
    select distinct
        'cycle' as key_kind,
        cast(cycle_id as varchar) as record_key
    from touched_cycle_ids
    union all
    select distinct
        'workout' as key_kind,
        cast(record_id as varchar) as record_key
    from recent_workouts
    union all
    select distinct
        'strain_user' as key_kind,
        cast(user_id as varchar) as record_key
    from (
        select user_id from recent_cycles
        union distinct
        select user_id from recent_sleeps
    ) as strain_users
)

select * from keys
