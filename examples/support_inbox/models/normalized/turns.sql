-- Every turn of every readable conversation, in order (an email thread's messages by date),
-- its role settled and its text redacted.
with raw as (
    select id, payload, format from {{ ref('raw_inbox') }}
),
parsed as (
    select p.id, p.turn_index, p.role, p.text
    from {{ parse_transcripts('raw', settings=transcript_settings('inbox')) }} as p
)
select
    i.conversation_id,
    cast(row_number() over (partition by i.conversation_id order by i.received_at, p.turn_index) as integer) as turn_index,
    p.role,
    redact_pii(p.text, {{ pii_policy('inbox') }}) as text_redacted
from parsed p
join {{ ref('interactions') }} i on i.id = p.id
where i.reason is null
