{#- Helpers of the default project's marts: plain Jinja, so dbt-core runs them too. -#}

{# True when the comma-separated `column` of topics holds `topic`. #}
{% macro has_topic(column, topic) -%}
strpos(',' || {{ column }} || ',', ',{{ topic }},') > 0
{%- endmacro %}

{# `text` as lowercase words between single spaces, apostrophes dropped ("I've" -> "ive"), with a
   space at each end: what phrase_match compares phrases with. #}
{% macro phrase_words(text) -%}
' ' || regexp_replace(replace(replace(lower({{ text }}), '''', ''), '’', ''), '[^a-z0-9]+', ' ', 'g') || ' '
{%- endmacro %}

{# True when `words` (from phrase_words) holds any of `phrases` as whole words, case and
   punctuation aside. #}
{% macro phrase_match(words, phrases) -%}
({% for phrase in phrases %}strpos({{ words }}, ' {{ phrase | lower | replace("'", "") | replace("’", "") | trim }} ') > 0{% if not loop.last %} or {% endif %}{% endfor %})
{%- endmacro %}
