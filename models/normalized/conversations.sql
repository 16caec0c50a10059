-- One row per conversation, with its canonical id and language.
select
    conversation_id(source, source_id) as conversation_id,
    source,
    source_id,
    channel,
    detect_language(payload) as language,
    cast(received_at as timestamp) as received_at
from {{ ref('raw_interactions') }}
