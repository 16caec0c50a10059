{% macro shout(x) %}upper({{ x }}){% endmacro %}
