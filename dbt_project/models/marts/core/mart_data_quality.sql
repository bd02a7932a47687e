{#- Data-quality monitoring per rule × resource × load day (UTC date of load_timestamp).
    Rule `all` carries the resource's loaded / tombstoned / quarantined totals for the day;
    one row per broken rule carries that rule's quarantined count. Freshness is the age of
    the resource's newest load when dbt last ran. Resource `dbt_test` holds failed data tests
    (rule = test name; the transformer records them in silver.dq_test_failures): the latest
    failure of the day with its failing row count and a sample of the failing rows; their
    freshness columns are those of the newest load of any resource. -#}
with

bronze as (
    {% for resource in ['cycle', 'sleep', 'recovery', 'workout', 'profile', 'body_measurement'] %}
        select
            '{{ resource }}' as resource,
            is_tombstone,
            load_timestamp
        from {{ source('whoop', 'raw_' ~ resource) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

test_failures as (
    -- the day's latest failure of each test
    select
        {{ date_key('cast(failed_at as date)') }} as date_key,
        test_name,
        failing_rows,
        sample_keys,
        failed_at
    from {{ source('wdp_dq', 'dq_test_failures') }}
    qualify row_number() over (
        partition by test_name, cast(failed_at as date) order by failed_at desc, run_id desc
    ) = 1
),

quarantine as (
    select * from {{ ref('int_whoop__quarantine') }}
),

loads as (
    select
        resource,
        {{ date_key('cast(load_timestamp as date)') }} as date_key,
        sum(case when is_tombstone then 0 else 1 end) as loaded_rows,
        sum(case when is_tombstone then 1 else 0 end) as tombstoned_rows
    from bronze
    group by 1, 2
),

freshness as (
    select
        resource,
        max(load_timestamp) as last_loaded_at
    from bronze
    group by 1
),

newest as (
    select max(last_loaded_at) as last_loaded_at from freshness
),

quarantined_by_rule as (
    select
        resource,
        rule,
        {{ date_key('cast(load_timestamp as date)') }} as date_key,
        count(*) as quarantined_rows
    from quarantine
    group by 1, 2, 3
),

quarantined_total as (
    select
        resource,
        date_key,
        sum(quarantined_rows) as quarantined_rows
    from quarantined_by_rule
    group by 1, 2
),

resource_days as (
    select
        loads.resource,
        'all' as rule,
        loads.date_key,
        loads.loaded_rows,
        loads.tombstoned_rows,
        coalesce(quarantined_total.quarantined_rows, 0) as quarantined_rows
    from loads
    left join quarantined_total
        on
            loads.resource = quarantined_total.resource
            and loads.date_key = quarantined_total.date_key
),

rule_days as (
    select
        resource,
        rule,
        date_key,
        0 as loaded_rows,
        0 as tombstoned_rows,
        quarantined_rows
    from quarantined_by_rule
),

unioned as (
    select * from resource_days
    union all
    select * from rule_days
),

final as (
    select
        cast(unioned.date_key as integer) as date_key,
        cast(unioned.resource as varchar) as resource,
        cast(unioned.rule as varchar) as rule,
        cast(unioned.loaded_rows as bigint) as loaded_rows,
        cast(unioned.tombstoned_rows as bigint) as tombstoned_rows,
        cast(unioned.quarantined_rows as bigint) as quarantined_rows,
        cast(0 as bigint) as failed_test_rows,
        cast(null as varchar) as failure_sample,
        freshness.last_loaded_at,
        cast(
            {{ dbt.datediff('freshness.last_loaded_at', utc_now(), 'minute') }} as double
        ) / 60.0 as freshness_hours
    from unioned
    inner join freshness on unioned.resource = freshness.resource
),

failed_tests as (
    select
        cast(test_failures.date_key as integer) as date_key,
        cast('dbt_test' as varchar) as resource,
        cast(test_failures.test_name as varchar) as rule,
        cast(0 as bigint) as loaded_rows,
        cast(0 as bigint) as tombstoned_rows,
        cast(0 as bigint) as quarantined_rows,
        cast(coalesce(test_failures.failing_rows, 0) as bigint) as failed_test_rows,
        cast(test_failures.sample_keys as varchar) as failure_sample,
        newest.last_loaded_at,
        cast(
            {{ dbt.datediff('newest.last_loaded_at', utc_now(), 'minute') }} as double
        ) / 60.0 as freshness_hours
    from test_failures
    -- freshness stays the warehouse's (newest load of any resource), so MIN(freshness_hours)
    -- over the mart means the same with or without failed tests
    cross join newest
)

select * from final
union all
select * from failed_tests
