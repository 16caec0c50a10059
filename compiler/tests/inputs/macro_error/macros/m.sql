{% macro greet(who) -%}
  'hello ' || {{ who }}
{%- endmacro %}

{% macro boom() -%}
  {{ greet(missing_variable.name) }}
{%- endmacro %}
