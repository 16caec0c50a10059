-- One row per ticket: a canonical id, the requester's normalized email for joins, the text with
-- its PII redacted, and the language it is written in.
select
    convlytics.conversation_id('helpdesk', ticket_id) as conversation_id,
    ticket_id,
    convlytics.normalize_identifier('email', requester_email) as requester_email,
    cast(created_at as timestamp) as created_at,
    status,
    convlytics.redact_pii(subject || '. ' || body) as text_redacted,
    convlytics.detect_language(body) as language
from {{ ref('tickets') }}
