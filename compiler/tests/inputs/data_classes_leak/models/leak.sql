with t as (select id, body from {{ source('app', 'messages') }})
select id,
       coalesce(body, '') as body_text
from t
