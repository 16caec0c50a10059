-- One row per turn, numbered within its conversation (an email thread's messages in date
-- order), with its role, the language of customer turns, and PII-redacted text. Lines that
-- agents, bots or the system say word for word in a large share of a source's conversations
-- (disclaimers, footers: boilerplate_lines) are removed; a turn that was nothing else is kept,
-- empty, and flagged as boilerplate.
with raw as (
    select source, source_id, payload, format
    from {{ ref('raw_interactions') }}
),
parsed as (
    select
        conversation_id(source, source_id) as interaction_id,
        turn_index,
        role,
        speaker,
        text,
        start_ms,
        end_ms,
        cast(sent_at as timestamp) as sent_at
    from {{ parse_transcripts('raw', settings=transcript_settings('support')) }} as t
),
placed as (
    select
        i.conversation_id,
        p.*,
        i.source,
        i.source_id,
        i.received_at,
        row_number() over (
            partition by i.conversation_id order by i.started_at, i.source_id, p.turn_index
        ) as position
    from parsed p
    join {{ ref('interactions') }} i on i.interaction_id = p.interaction_id
    where i.quarantine_reason is null
),
-- The lines said word for word in a large share of the source's conversations
-- (models/normalized/boilerplate_lines.sql).
boilerplate as (
    select source, string_agg(line, chr(10)) as lines from {{ ref('boilerplate_lines') }} group by source
),
cleaned as (
    select
        p.*,
        case when p.role = 'customer' then p.text else remove_lines(p.text, coalesce(b.lines, '')) end as clean_text
    from placed p
    left join boilerplate b on b.source = p.source
)
select
    conversation_id,
    interaction_id,
    source,
    source_id,
    cast(position as integer) as turn_index,
    role,
    redact_pii(speaker, {{ pii_policy('speaker') }}) as speaker_redacted,
    redact_pii(clean_text, {{ pii_policy('support') }}) as text_redacted,
    case when role = 'customer' then detect_language(clean_text) end as language,
    start_ms,
    end_ms,
    sent_at,
    clean_text = '' as is_boilerplate,
    received_at
from cleaned
