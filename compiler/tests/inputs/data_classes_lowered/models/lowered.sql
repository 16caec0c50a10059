select upper(body) as body from {{ source('app', 'messages') }}
