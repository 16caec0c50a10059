-- One row per turn, numbered within its conversation (an email thread's messages in date
-- order), with its role, language and PII-redacted text. Turns that repeat word for word across
-- many conversations (greetings, disclaimers) are flagged as boilerplate.
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
        lower(regexp_replace(p.text, '[0-9]+', '0', 'g')) as shape,
        row_number() over (
            partition by i.conversation_id order by i.started_at, i.source_id, p.turn_index
        ) as position
    from parsed p
    join {{ ref('interactions') }} i on i.interaction_id = p.interaction_id
    where i.quarantine_reason is null
),
repeated as (
    select shape
    from placed
    where role in ('agent', 'bot', 'system') and length(shape) >= 20
    group by shape
    having count(distinct conversation_id) >= {{ var('boilerplate_min_conversations') }}
)
select
    p.conversation_id,
    p.interaction_id,
    p.source,
    p.source_id,
    cast(p.position as integer) as turn_index,
    p.role,
    redact_pii(p.speaker, {{ pii_policy('support') }}) as speaker_redacted,
    redact_pii(p.text, {{ pii_policy('support') }}) as text_redacted,
    detect_language(p.text) as language,
    p.start_ms,
    p.end_ms,
    p.sent_at,
    r.shape is not null as is_boilerplate
from placed p
left join repeated r on r.shape = p.shape
