select id, intent, body_length, mentions_refund, email_hash from {{ ref('messages') }}
