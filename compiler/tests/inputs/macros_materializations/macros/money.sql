{% macro cents(column) -%}
cast(round({{ column }} * 100) as bigint)
{%- endmacro %}

{% macro paid(relation) -%}
select order_id, {{ cents('amount') }} as amount_cents from {{ relation }} where status = 'paid'
{%- endmacro %}
