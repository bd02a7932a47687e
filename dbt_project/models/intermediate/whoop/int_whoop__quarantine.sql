{#- Every live silver row that breaks a DQ rule (docs/data-model.md), one row per broken rule.
    Facts anti-join this model, so a quarantined record never reaches gold. Nulls pass: WHOOP
    leaves unknown optional fields out. Rule `unparsable_field`: a field whose value has the
    wrong type or format (staging's safe casts gave null); the reason names field and value.
    Such a record has no trustworthy day, so its date_key is null. -#}
with

{% set parsed = [
    ('cycle', 'stg_whoop__cycles'),
    ('sleep', 'stg_whoop__sleeps'),
    ('recovery', 'stg_whoop__recoveries'),
    ('workout', 'stg_whoop__workouts'),
    ('body_measurement', 'stg_whoop__body_measurements'),
] %}

unparsable as (
    {%- for resource, model in parsed %}
        select
            '{{ resource }}' as resource,
            {% if resource == 'body_measurement' -%}
                cast(user_id as varchar)
            {%- else -%}
                record_id
            {%- endif %} as record_key,
            user_id,
            cast(null as integer) as date_key,
            'unparsable_field' as rule,
            'unparsable field(s): ' || rtrim(unparsable_fields, '; ') as reason,
            {% if resource == 'body_measurement' -%}
                fetched_at as updated_at,
            {%- else -%}
                updated_at,
            {%- endif %}
            load_timestamp
        from {{ ref(model) }}
        where unparsable_fields is not null
        {%- if resource == 'recovery' %}
            -- one row per cycle even when both of its recoveries (main sleep and nap) are broken
            qualify row_number() over (
                partition by record_id order by updated_at desc, sleep_id desc
            ) = 1
        {%- endif %}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

recoveries as (
    select * from {{ ref('int_recoveries_day_assigned') }}
),

cycles as (
    select * from {{ ref('int_cycles_day_assigned') }}
),

sleeps as (
    select * from {{ ref('int_sleeps_day_assigned') }}
),

workouts as (
    select * from {{ ref('int_workouts_day_assigned') }}
),

recovery_checks as (
    {{ dq_checks(
        'recoveries', 'recovery', 'cast(cycle_id as varchar)',
        [
            ('recovery_score_range', 'recovery_score < 0 or recovery_score > 100',
                'recovery_score', 'recovery_score outside [0, 100]'),
            ('resting_heart_rate_range',
                'resting_heart_rate_bpm < 20 or resting_heart_rate_bpm > 250',
                'resting_heart_rate_bpm', 'resting heart rate outside [20, 250] bpm'),
            ('hrv_range', 'hrv_rmssd_ms <= 0 or hrv_rmssd_ms > 500',
                'hrv_rmssd_ms', 'HRV RMSSD outside (0, 500] ms'),
            ('spo2_range', 'spo2_percentage < 50 or spo2_percentage > 100',
                'spo2_percentage', 'SpO2 outside [50, 100] %'),
            ('skin_temp_range', 'skin_temp_celsius < 25 or skin_temp_celsius > 45',
                'skin_temp_celsius', 'skin temperature outside [25, 45] C'),
        ]
    ) }}
),

cycle_checks as (
    {{ dq_checks(
        'cycles', 'cycle', 'cast(cycle_id as varchar)',
        [
            ('day_strain_range', 'day_strain < 0 or day_strain > 21',
                'day_strain', 'day strain outside [0, 21]'),
            ('average_heart_rate_range',
                'average_heart_rate_bpm < 20 or average_heart_rate_bpm > 250',
                'average_heart_rate_bpm', 'average heart rate outside [20, 250] bpm'),
            ('max_heart_rate_range', 'max_heart_rate_bpm < 20 or max_heart_rate_bpm > 250',
                'max_heart_rate_bpm', 'max heart rate outside [20, 250] bpm'),
            ('end_before_start', 'end_at_utc < start_at_utc',
                'end_at_utc', 'end is before start'),
        ]
    ) }}
),

sleep_checks as (
    {{ dq_checks(
        'sleeps', 'sleep', 'sleep_id',
        [
            ('respiratory_rate_range', 'respiratory_rate_rpm < 4 or respiratory_rate_rpm > 60',
                'respiratory_rate_rpm', 'respiratory rate outside [4, 60] per minute'),
            ('stage_minutes_exceed_in_bed',
                'light_sleep_minutes + deep_sleep_minutes + rem_sleep_minutes + awake_minutes'
                ~ ' > in_bed_minutes + 1',
                'in_bed_minutes', 'light + deep + rem + awake minutes exceed in-bed + 1 minute'),
            ('end_before_start', 'end_at_utc < start_at_utc',
                'end_at_utc', 'end is before start'),
            ('sleep_efficiency_percentage_range',
                'sleep_efficiency_percentage < 0 or sleep_efficiency_percentage > 100',
                'sleep_efficiency_percentage', 'sleep efficiency outside [0, 100] %'),
            ('sleep_performance_percentage_range',
                'sleep_performance_percentage < 0 or sleep_performance_percentage > 100',
                'sleep_performance_percentage', 'sleep performance outside [0, 100] %'),
            ('sleep_consistency_percentage_range',
                'sleep_consistency_percentage < 0 or sleep_consistency_percentage > 100',
                'sleep_consistency_percentage', 'sleep consistency outside [0, 100] %'),
        ]
    ) }}
),

workout_checks as (
    {{ dq_checks(
        'workouts', 'workout', 'workout_id',
        [
            ('strain_range', 'strain < 0 or strain > 21',
                'strain', 'workout strain outside [0, 21]'),
            ('average_heart_rate_range',
                'average_heart_rate_bpm < 20 or average_heart_rate_bpm > 250',
                'average_heart_rate_bpm', 'average heart rate outside [20, 250] bpm'),
            ('max_heart_rate_range', 'max_heart_rate_bpm < 20 or max_heart_rate_bpm > 250',
                'max_heart_rate_bpm', 'max heart rate outside [20, 250] bpm'),
            ('end_before_start', 'end_at_utc < start_at_utc',
                'end_at_utc', 'end is before start'),
            ('percent_recorded_range', 'percent_recorded < 0 or percent_recorded > 100',
                'percent_recorded', 'percent recorded outside [0, 100] %'),
        ]
    ) }}
),

unioned as (
    select * from unparsable
    union all
    select * from recovery_checks
    union all
    select * from cycle_checks
    union all
    select * from sleep_checks
    union all
    select * from workout_checks
)

select * from unioned
