with paid as (
    select * from {{ ref('stg_payments') }}
)
select count(*) as orders, sum(amount_cents) as revenue_cents
from paid
