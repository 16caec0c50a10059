-- One row per conversation: why it started (intent and topics), the customer's sentiment at the
-- start and at the end and how it moved, the customer's tones, how the conversation ended (with
-- the turn and phrase that decided it), a summary, the entities the customer mentioned, and
-- effort (turns, customer turns, duration, bot-to-agent handoffs). Every label carries its
-- evidence and the taxonomy version.
--
-- Incremental: a run enriches only conversations that are new, have new turns, or were enriched
-- under another version of the taxonomy; `--full-refresh` enriches everything again.
{{ config(materialized='incremental', unique_key='conversation_id', event_time='received_at') }}
with scope as (
    select c.conversation_id
    from {{ ref('conversations') }} c
{%- if is_incremental() %}
    left join {{ this }} done
      on done.conversation_id = c.conversation_id
     and done.turn_count = c.turn_count
     and done.taxonomy_version = taxonomy_version({{ taxonomy('support') }})
    where done.conversation_id is null
{%- endif %}
),
-- One pass over the turns and one aggregate per conversation: every list the functions read.
ordered as (
    select
        t.conversation_id,
        t.turn_index,
        t.role,
        t.text_redacted,
        case when t.role = 'customer' then sentiment(t.text_redacted) end as sentiment,
        lag(t.role) over (partition by t.conversation_id order by t.turn_index) as previous_role
    from {{ ref('turns') }} t
    join scope on scope.conversation_id = t.conversation_id
    where not t.is_boilerplate
),
turn_lists as (
    select
        conversation_id,
        array_agg(role order by turn_index) as roles,
        array_agg(text_redacted order by turn_index) as texts,
        array_agg(sentiment order by turn_index) filter (where role = 'customer') as sentiments,
        string_agg(case when role = 'customer' then text_redacted end, chr(10) order by turn_index) as customer_text,
        sum(case when role = 'agent' and previous_role = 'bot' then 1 else 0 end) as agent_handoffs
    from ordered
    group by conversation_id
)
select
    c.conversation_id,
    i.intent,
    i.intent_confidence,
    i.intent_evidence,
    i.topics,
    l.sentiments[1] as sentiment_start,
    l.sentiments[cast(cardinality(l.sentiments) as integer)] as sentiment_end,
    l.sentiments[cast(cardinality(l.sentiments) as integer)] - l.sentiments[1] as sentiment_change,
    tones(l.customer_text) as customer_tones,
    resolution_status(l.roles, l.texts, {{ taxonomy('support') }}) as resolution,
    resolution_explain(l.roles, l.texts, {{ taxonomy('support') }}) as resolution_evidence,
    summarize_turns(l.roles, l.texts) as summary,
    extract_entities(l.customer_text, {{ taxonomy('support') }}) as entities,
    c.turn_count,
    c.customer_turns,
    c.duration_ms,
    coalesce(l.agent_handoffs, 0) as agent_handoffs,
    taxonomy_version({{ taxonomy('support') }}) as taxonomy_version,
    c.received_at,
    '{{ invocation_id }}' as run_id
from {{ ref('conversations') }} c
join scope on scope.conversation_id = c.conversation_id
left join {{ ref('conversation_intents') }} i on i.conversation_id = c.conversation_id
left join turn_lists l on l.conversation_id = c.conversation_id
