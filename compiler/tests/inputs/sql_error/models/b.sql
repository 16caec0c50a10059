{% set cols = ['one', 'two'] %}
select
  {% for c in cols %}{{ c }}, {% endfor %}
  1 as three
from {{ ref('a') }}
where one = = 1
