select sum(amount) from {{ ref('orders') }}
