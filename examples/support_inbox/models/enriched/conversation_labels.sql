-- Intent and topics of the customer's first turn, the resolution and summary of the whole
-- conversation, and the customer's sentiment at the end.
with ordered as (
    select conversation_id, turn_index, role, text_redacted from {{ ref('turns') }}
),
customer as (
    select
        conversation_id,
        text_redacted,
        row_number() over (partition by conversation_id order by turn_index) as from_start,
        row_number() over (partition by conversation_id order by turn_index desc) as from_end
    from ordered
    where role = 'customer'
),
lists as (
    select
        conversation_id,
        array_agg(role order by turn_index) as roles,
        array_agg(text_redacted order by turn_index) as texts
    from ordered
    group by conversation_id
)
select
    l.conversation_id,
    classify_intent(f.text_redacted, {{ taxonomy('acme_support') }}) as intent,
    array_to_string(tag_topics(f.text_redacted, {{ taxonomy('acme_support') }}), ',') as topics,
    resolution_status(l.roles, l.texts, {{ taxonomy('acme_support') }}) as resolution,
    sentiment(e.text_redacted) as sentiment_end,
    summarize_turns(l.roles, l.texts) as summary,
    taxonomy_version({{ taxonomy('acme_support') }}) as taxonomy_version
from lists l
left join customer f on f.conversation_id = l.conversation_id and f.from_start = 1
left join customer e on e.conversation_id = l.conversation_id and e.from_end = 1
