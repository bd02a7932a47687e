{#- Safe casts from text: one macro per type, dispatched per warehouse. Bronze keeps every line
    exactly as WHOOP sent it, so any field can hold a value of the wrong type or format
    (`"start": "yesterday"`); a hard cast would then fail every later build for every user.
    These return null instead, and `unparsable_fields` names the field and value so staging
    can send the record to the quarantine. Snowflake's TRY_TO_* take text only: every caller
    passes text (`json_get_text`, `record_id`). -#}

{% macro whoop_safe_cast(text_expr, type) -%}
    {%- if type == 'double' -%} {{ safe_to_double(text_expr) }}
    {%- elif type == 'bigint' -%} {{ safe_to_bigint(text_expr) }}
    {%- elif type == 'boolean' -%} {{ safe_to_boolean(text_expr) }}
    {%- elif type == 'timestamp' -%} {{ parse_utc_timestamp(text_expr) }}
    {%- elif type == 'uuid' -%} {{ safe_to_uuid_text(text_expr) }}
    {%- elif type == 'tz_offset' -%} {{ offset_to_minutes(text_expr) }}
    {%- else -%} {{ exceptions.raise_compiler_error('whoop_safe_cast: unknown type ' ~ type) }}
    {%- endif -%}
{%- endmacro %}


{% macro safe_to_double(text_expr) -%}
    {{ return(adapter.dispatch('safe_to_double', 'whoop_platform')(text_expr)) }}
{%- endmacro %}

{% macro default__safe_to_double(text_expr) -%}
    try_cast({{ text_expr }} as double)
{%- endmacro %}

{% macro snowflake__safe_to_double(text_expr) -%}
    try_to_double({{ text_expr }})
{%- endmacro %}


{% macro safe_to_bigint(text_expr) -%}
    {{ return(adapter.dispatch('safe_to_bigint', 'whoop_platform')(text_expr)) }}
{%- endmacro %}

{% macro default__safe_to_bigint(text_expr) -%}
    try_cast({{ text_expr }} as bigint)
{%- endmacro %}

{% macro snowflake__safe_to_bigint(text_expr) -%}
    try_to_number({{ text_expr }})
{%- endmacro %}


{% macro safe_to_boolean(text_expr) -%}
    {{ return(adapter.dispatch('safe_to_boolean', 'whoop_platform')(text_expr)) }}
{%- endmacro %}

{% macro default__safe_to_boolean(text_expr) -%}
    try_cast({{ text_expr }} as boolean)
{%- endmacro %}

{% macro snowflake__safe_to_boolean(text_expr) -%}
    try_to_boolean({{ text_expr }})
{%- endmacro %}


{#- WHOOP v2 sleep and workout ids (and a recovery's sleep_id) are UUID strings; an id of the
    wrong kind (a v1 int64) would never join. Returns the text itself when it is a UUID. -#}
{% macro safe_to_uuid_text(text_expr) -%}
    {{ return(adapter.dispatch('safe_to_uuid_text', 'whoop_platform')(text_expr)) }}
{%- endmacro %}

{% macro default__safe_to_uuid_text(text_expr) -%}
    case when try_cast({{ text_expr }} as uuid) is not null then {{ text_expr }} end
{%- endmacro %}

{% macro snowflake__safe_to_uuid_text(text_expr) -%}
    case
        when regexp_like(
            {{ text_expr }},
            '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'
        ) then {{ text_expr }}
    end
{%- endmacro %}


{#- Names every field whose text is present but does not parse as its type, e.g.
    `start = "yesterday"; score.recovery_score = "high"`; null when the record is clean.
    `fields` is a list of (name, text_expr, type), `type` one of whoop_safe_cast's. Staging keeps
    this column, intermediate models drop the rows that have it, and int_whoop__quarantine
    lists them with rule `unparsable_field`. -#}
{% macro unparsable_fields(fields) -%}
    nullif(
        {%- for name, text_expr, type in fields %}
        coalesce(
            case
                when {{ text_expr }} is not null and {{ whoop_safe_cast(text_expr, type) }} is null
                    then '{{ name }} = "' || {{ text_expr }} || '"; '
            end,
            ''
        ){% if not loop.last %} ||{% endif %}
        {%- endfor %},
        ''
    )
{%- endmacro %}


{#- (name, text_expr, type) of a JSON payload field, for `unparsable_fields`. -#}
{% macro json_field(path, type, column='payload') -%}
    {{ return((path, json_get_text(column, path), type)) }}
{%- endmacro %}
