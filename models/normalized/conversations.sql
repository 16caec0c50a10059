-- One row per conversation, with its canonical id, language, and its text with PII redacted.
select
    conversation_id(source, source_id) as conversation_id,
    source,
    source_id,
    channel,
    detect_language(payload) as language,
    redact_pii(payload, {{ pii_policy('support') }}) as payload_redacted,
    cast(received_at as timestamp) as received_at
from {{ ref('raw_interactions') }}
