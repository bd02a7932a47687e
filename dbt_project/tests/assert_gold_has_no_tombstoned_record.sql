-- A record deleted by a tombstone (and not re-created after it) is absent from gold.
with

tombstones as (
    select
        record_id,
        max(updated_at) as deleted_at
    from {{ source('whoop', 'raw_sleep') }}
    where is_tombstone
    group by record_id
),

recreated as (
    select distinct raw_sleep.record_id
    from {{ source('whoop', 'raw_sleep') }} as raw_sleep
    inner join tombstones on raw_sleep.record_id = tombstones.record_id
    where not raw_sleep.is_tombstone and raw_sleep.updated_at > tombstones.deleted_at
)

select facts.sleep_id
from {{ ref('fact_sleep') }} as facts
inner join tombstones on facts.sleep_id = tombstones.record_id
where facts.sleep_id not in (select recreated.record_id from recreated)
