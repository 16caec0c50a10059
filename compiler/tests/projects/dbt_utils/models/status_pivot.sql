select customer_id,
  {{ dbt_utils.pivot('status', ['placed', 'shipped', 'returned'], agg='sum', then_value='amount', else_value=0) }}
from {{ ref('orders') }}
group by customer_id
