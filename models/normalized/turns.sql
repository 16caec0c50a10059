-- One row per turn, numbered within its conversation (an email thread's messages in date
-- order), with its role, language and PII-redacted text. Lines that agents, bots or the system
-- say word for word in many conversations (disclaimers, templated greetings) are removed; a turn
-- that was nothing else is kept, empty, and flagged as boilerplate.
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
        row_number() over (
            partition by i.conversation_id order by i.started_at, i.source_id, p.turn_index
        ) as position
    from parsed p
    join {{ ref('interactions') }} i on i.interaction_id = p.interaction_id
    where i.quarantine_reason is null
),
business_lines as (
    select conversation_id, unnest(string_to_array(text, chr(10))) as line
    from placed
    where role in ('agent', 'bot', 'system')
),
repeated as (
    select trim(line) as line
    from business_lines
    where length(trim(line)) >= 20
    group by trim(line)
    having count(distinct conversation_id) >= {{ var('boilerplate_min_conversations') }}
),
boilerplate as (
    select coalesce(string_agg(line, chr(10)), '') as lines from repeated
),
cleaned as (
    select
        p.*,
        case when p.role = 'customer' then p.text else remove_lines(p.text, b.lines) end as clean_text
    from placed p
    cross join boilerplate b
)
select
    conversation_id,
    interaction_id,
    source,
    source_id,
    cast(position as integer) as turn_index,
    role,
    redact_pii(speaker, {{ pii_policy('support') }}) as speaker_redacted,
    redact_pii(clean_text, {{ pii_policy('support') }}) as text_redacted,
    detect_language(clean_text) as language,
    start_ms,
    end_ms,
    sent_at,
    clean_text = '' as is_boilerplate
from cleaned
