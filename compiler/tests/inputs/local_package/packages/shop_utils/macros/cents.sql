{% macro cents(column) %}{{ return(adapter.dispatch('cents', 'shop_utils')(column)) }}{% endmacro %}
{% macro default__cents(column) %}cast(round({{ column }} * 100) as bigint){% endmacro %}
{% macro datafusion__cents(column) %}cast(round({{ column }} * 100.0) as bigint){% endmacro %}

{% macro greeting(name) %}{{ return(adapter.dispatch('greeting', 'shop_utils')(name)) }}{% endmacro %}
{% macro default__greeting(name) %}'hello ' || {{ name }}{% endmacro %}

{% macro columns_of(prefix, names) %}
  {%- set out = [] -%}
  {%- for n in names -%}{%- do out.append(prefix ~ n) -%}{%- endfor -%}
  {{ return(out) }}
{% endmacro %}

{% test positive(model, column_name) %}
select * from {{ model }} where {{ column_name }} <= 0
{% endtest %}
