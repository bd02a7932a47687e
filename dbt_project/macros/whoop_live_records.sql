{#- The current version of every WHOOP record in a bronze raw table: the select a staging
    model reads instead of repeating the dedupe in six places. Bronze is append-only and a record
    arrives many times (re-scores, re-syncs, overlapping windows), so the latest `updated_at`
    wins; ties (the same version loaded twice) go to the latest load, then file, then line.
    `partition_by` is the record's identity: `record_id`, except for recoveries, where WHOOP can
    give one cycle a second recovery of its own for a nap, so a recovery is (cycle, sleep). -#}
{% macro whoop_latest_records(source_relation, partition_by='record_id') -%}
    select *
    from {{ source_relation }}
    where not is_tombstone
    qualify row_number() over (
        partition by {{ partition_by }}
        order by updated_at desc, load_timestamp desc, source_file desc, line_number desc
    ) = 1
{%- endmacro %}


{#- `whoop_latest_records` minus the deleted ones. A tombstone hides a record only when the
    record is not newer than it: a record re-created after its delete (updated_at later than
    deleted_at) wins. A tombstone's `record_id` holds the WHOOP key of the delete event; it
    usually is the record's own id, but `recovery.deleted` carries the sleep UUID, so recoveries
    pass `tombstone_key_path='sleep_id'` to match tombstones on that payload field instead. -#}
{% macro whoop_live_records(source_relation, tombstone_key_path=none, partition_by='record_id') -%}
    with

    records as (
        {{ whoop_latest_records(source_relation, partition_by) | indent(4) }}
    ),

    tombstones as (
        select
            record_id as deleted_key,
            max(updated_at) as deleted_at
        from {{ source_relation }}
        where is_tombstone
        group by record_id
    )

    select records.*
    from records
    left join tombstones
        on
        {%- if tombstone_key_path is none %} records.record_id
        {%- else %} {{ json_get_text('records.payload', tombstone_key_path) }}
        {%- endif %} = tombstones.deleted_key
    where tombstones.deleted_at is null or records.updated_at > tombstones.deleted_at
{%- endmacro %}
