-- Boilerplate: a line that agents, bots or the system say word for word in at least
-- var('boilerplate_min_conversations') conversations and in at least var('boilerplate_min_share')
-- of its source's conversations (a disclaimer on every call, a footer on every email), not a
-- canned reply some agents use. `turns` removes these lines. A table of its own: it is a
-- statistic over every conversation of a source, so records enriched on arrival
-- (docs/realtime.md) have the lines of the last build removed, as a batch run would.
with raw as (
    select source, source_id, payload, format
    from {{ ref('raw_interactions') }}
),
parsed as (
    select conversation_id(source, source_id) as interaction_id, role, text
    from {{ parse_transcripts('raw', settings=transcript_settings('support')) }} as t
),
placed as (
    select i.source, i.conversation_id, i.received_at, p.role, p.text
    from parsed p
    join {{ ref('interactions') }} i on i.interaction_id = p.interaction_id
    where i.quarantine_reason is null
),
business_lines as (
    select source, conversation_id, received_at, unnest(string_to_array(text, chr(10))) as line
    from placed
    where role in ('agent', 'bot', 'system')
),
source_conversations as (
    select source, count(distinct conversation_id) as conversations from placed group by source
)
select
    l.source,
    trim(l.line) as line,
    count(distinct l.conversation_id) as conversations,
    max(l.received_at) as received_at
from business_lines l
join source_conversations s on s.source = l.source
where length(trim(l.line)) >= 20
group by l.source, trim(l.line), s.conversations
having count(distinct l.conversation_id) >= {{ var('boilerplate_min_conversations') }}
   and count(distinct l.conversation_id) >= {{ var('boilerplate_min_share') }} * s.conversations
