{%- set picked = shop_utils.columns_of('p.', ['id', 'name']) %}
select {{ picked | join(', ') }}, {{ shop_utils.cents('p.price') }} as price_cents,
  {{ shop_utils.greeting('p.name') }} as greeting, {{ installed_utils.shout('p.name') }} as loud
from {{ ref('prices') }} as p
