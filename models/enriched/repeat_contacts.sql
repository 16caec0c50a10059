-- Repeat contact: for each conversation with a known intent, the same customer's previous
-- conversation with the same intent, and whether it came within var('repeat_contact_days') days.
with labelled as (
    select m.customer_key, i.conversation_id, i.intent, c.started_at
    from {{ ref('conversation_intents') }} i
    join {{ ref('identity_map') }} m on m.conversation_id = i.conversation_id
    join {{ ref('conversations') }} c on c.conversation_id = i.conversation_id
    where i.intent <> 'unknown'
),
ranked as (
    select
        *,
        lag(conversation_id) over (partition by customer_key, intent order by started_at, conversation_id) as previous_conversation_id,
        lag(started_at) over (partition by customer_key, intent order by started_at, conversation_id) as previous_started_at
    from labelled
)
select
    conversation_id,
    customer_key,
    intent,
    started_at,
    previous_conversation_id,
    previous_started_at,
    coalesce(started_at <= previous_started_at + interval '{{ var("repeat_contact_days") }} days', false) as is_repeat_contact,
    '{{ invocation_id }}' as run_id
from ranked
