{# A generic test that reads the warehouse while compiling: it fails unless the model has `count` columns. #}
{% test has_columns(model, count) %}
{%- set columns = adapter.get_columns_in_relation(model) %}
select {{ columns | length }} as found where {{ columns | length }} != {{ count }}
{% endtest %}
