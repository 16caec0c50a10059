select 1 as one from {{ source('app', 'messages') }}
