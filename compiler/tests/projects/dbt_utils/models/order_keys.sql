select {{ dbt_utils.generate_surrogate_key(['order_id', 'customer_id']) }} as order_key, order_id, customer_id, amount, ordered_at
from {{ ref('orders') }}
