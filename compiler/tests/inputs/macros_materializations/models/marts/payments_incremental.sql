{{ config(materialized='incremental', unique_key='order_id') }}
select p.order_id, p.amount_cents
from {{ ref('stg_payments') }} as p
{% if is_incremental() %}
where p.order_id >= (select max(order_id) from {{ this }})
{% endif %}
