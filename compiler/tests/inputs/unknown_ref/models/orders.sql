-- reads a model that does not exist
select id
from {{ ref('stg_orders') }}
