with

live as (
    {{ whoop_live_records(source('whoop', 'raw_sleep')) }}
),

renamed as (
    select
        ---------- ids
        cast(record_id as varchar) as sleep_id,
        record_id,
        {{ json_get_bigint('payload', 'cycle_id') }} as cycle_id,
        cast(user_id as bigint) as user_id,

        ---------- strings and flags
        {{ json_get_text('payload', 'score_state') }} as score_state,
        {{ json_get_text('payload', 'timezone_offset') }} as timezone_offset,
        coalesce({{ json_get_bool('payload', 'nap') }}, false) as is_nap,

        ---------- numerics (unit in the name)
        {{ offset_to_minutes(json_get_text('payload', 'timezone_offset')) }}
            as timezone_offset_minutes,
        {{ json_get_number('payload', 'score.stage_summary.total_in_bed_time_milli') }}
            as in_bed_ms,
        {{ json_get_number('payload', 'score.stage_summary.total_awake_time_milli') }}
            as awake_ms,
        {{ json_get_number('payload', 'score.stage_summary.total_no_data_time_milli') }}
            as no_data_ms,
        {{ json_get_number('payload', 'score.stage_summary.total_light_sleep_time_milli') }}
            as light_sleep_ms,
        {{ json_get_number('payload', 'score.stage_summary.total_slow_wave_sleep_time_milli') }}
            as deep_sleep_ms,
        {{ json_get_number('payload', 'score.stage_summary.total_rem_sleep_time_milli') }}
            as rem_sleep_ms,
        {{ json_get_bigint('payload', 'score.stage_summary.sleep_cycle_count') }}
            as sleep_cycle_count,
        {{ json_get_bigint('payload', 'score.stage_summary.disturbance_count') }}
            as disturbance_count,
        {{ json_get_number('payload', 'score.sleep_needed.baseline_milli') }}
            as need_baseline_ms,
        {{ json_get_number('payload', 'score.sleep_needed.need_from_sleep_debt_milli') }}
            as need_from_sleep_debt_ms,
        {{ json_get_number('payload', 'score.sleep_needed.need_from_recent_strain_milli') }}
            as need_from_recent_strain_ms,
        {{ json_get_number('payload', 'score.sleep_needed.need_from_recent_nap_milli') }}
            as need_from_recent_nap_ms,
        {{ json_get_number('payload', 'score.respiratory_rate') }} as respiratory_rate_rpm,
        {{ json_get_number('payload', 'score.sleep_performance_percentage') }}
            as sleep_performance_percentage,
        {{ json_get_number('payload', 'score.sleep_consistency_percentage') }}
            as sleep_consistency_percentage,
        {{ json_get_number('payload', 'score.sleep_efficiency_percentage') }}
            as sleep_efficiency_percentage,

        ---------- timestamps (UTC)
        {{ parse_utc_timestamp(json_get_text('payload', 'start')) }} as start_at_utc,
        {{ parse_utc_timestamp(json_get_text('payload', 'end')) }} as end_at_utc,
        {{ parse_utc_timestamp(json_get_text('payload', 'created_at')) }} as created_at,
        updated_at,

        ---------- fields whose value does not parse (the record goes to the quarantine)
        {{ unparsable_fields([
            ('id', 'record_id', 'uuid'),
            json_field('cycle_id', 'bigint'),
            json_field('nap', 'boolean'),
            json_field('timezone_offset', 'tz_offset'),
            json_field('score.stage_summary.total_in_bed_time_milli', 'double'),
            json_field('score.stage_summary.total_awake_time_milli', 'double'),
            json_field('score.stage_summary.total_no_data_time_milli', 'double'),
            json_field('score.stage_summary.total_light_sleep_time_milli', 'double'),
            json_field('score.stage_summary.total_slow_wave_sleep_time_milli', 'double'),
            json_field('score.stage_summary.total_rem_sleep_time_milli', 'double'),
            json_field('score.stage_summary.sleep_cycle_count', 'bigint'),
            json_field('score.stage_summary.disturbance_count', 'bigint'),
            json_field('score.sleep_needed.baseline_milli', 'double'),
            json_field('score.sleep_needed.need_from_sleep_debt_milli', 'double'),
            json_field('score.sleep_needed.need_from_recent_strain_milli', 'double'),
            json_field('score.sleep_needed.need_from_recent_nap_milli', 'double'),
            json_field('score.respiratory_rate', 'double'),
            json_field('score.sleep_performance_percentage', 'double'),
            json_field('score.sleep_consistency_percentage', 'double'),
            json_field('score.sleep_efficiency_percentage', 'double'),
            json_field('start', 'timestamp'),
            json_field('end', 'timestamp'),
            json_field('created_at', 'timestamp'),
        ]) }} as unparsable_fields,

        ---------- lineage
        load_timestamp,
        source_file,
        batch_id
    from live
)

select * from renamed
