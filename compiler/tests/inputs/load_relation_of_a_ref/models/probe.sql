{%- if load_relation(ref('base')) %}
select one from {{ ref('base') }}
{%- endif %}
