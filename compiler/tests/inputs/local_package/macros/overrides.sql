{% macro default__greeting(name) %}'hi ' || {{ name }}{% endmacro %}

{% test not_empty(model, column_name, min_length=1) %}
select * from {{ model }} where length({{ column_name }}) < {{ min_length }}
{% endtest %}
