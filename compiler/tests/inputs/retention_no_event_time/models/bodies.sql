select body from {{ source('app', 'messages') }}
