{#- WHOOP's sport_name slugs disagree on separators (`mountain-biking`, `weightlifting_msk`,
    `mountain biking`): lower case, then `-`, `_` and space each become a space
    (docs/data-model.md) before a slug is matched to the official sport list. The simulator's
    ground truth applies the very same rule. -#}
{% macro normalise_sport_name(expr) -%}
    replace(replace(lower(trim({{ expr }})), '-', ' '), '_', ' ')
{%- endmacro %}
