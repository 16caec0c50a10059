-- One row per conversation: why it started (intent and topics), the customer's sentiment at the
-- start and at the end and how it moved, the customer's tones, how the conversation ended (with
-- the turn and phrase that decided it), a summary, the entities the customer mentioned, and
-- effort (turns, customer turns, duration, bot-to-agent handoffs). Every label carries its
-- evidence and the taxonomy version.
--
-- Incremental: a run enriches only conversations that are new, have new turns, or were enriched
-- under another version of the taxonomy; `--full-refresh` enriches everything again.
{{ config(materialized='incremental', unique_key='conversation_id') }}
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
ordered as (
    select t.conversation_id, t.turn_index, t.role, t.text_redacted
    from {{ ref('turns') }} t
    join scope on scope.conversation_id = t.conversation_id
    where not t.is_boilerplate
),
customer as (
    select
        conversation_id,
        turn_index,
        sentiment(text_redacted) as sentiment,
        row_number() over (partition by conversation_id order by turn_index) as from_start,
        row_number() over (partition by conversation_id order by turn_index desc) as from_end
    from ordered
    where role = 'customer'
),
customer_text as (
    select conversation_id, string_agg(text_redacted, chr(10) order by turn_index) as text
    from ordered
    where role = 'customer'
    group by conversation_id
),
turn_lists as (
    select
        conversation_id,
        array_agg(role order by turn_index) as roles,
        array_agg(text_redacted order by turn_index) as texts
    from ordered
    group by conversation_id
),
handoffs as (
    select conversation_id, sum(case when role = 'agent' and previous_role = 'bot' then 1 else 0 end) as agent_handoffs
    from (
        select conversation_id, role, lag(role) over (partition by conversation_id order by turn_index) as previous_role
        from ordered
    ) t
    group by conversation_id
)
select
    c.conversation_id,
    i.intent,
    i.intent_confidence,
    i.intent_evidence,
    i.topics,
    s.sentiment as sentiment_start,
    e.sentiment as sentiment_end,
    e.sentiment - s.sentiment as sentiment_change,
    tones(t.text) as customer_tones,
    resolution_status(l.roles, l.texts, {{ taxonomy('support') }}) as resolution,
    resolution_explain(l.roles, l.texts, {{ taxonomy('support') }}) as resolution_evidence,
    summarize_turns(l.roles, l.texts) as summary,
    extract_entities(t.text, {{ taxonomy('support') }}) as entities,
    c.turn_count,
    c.customer_turns,
    c.duration_ms,
    coalesce(h.agent_handoffs, 0) as agent_handoffs,
    taxonomy_version({{ taxonomy('support') }}) as taxonomy_version
from {{ ref('conversations') }} c
join scope on scope.conversation_id = c.conversation_id
left join {{ ref('conversation_intents') }} i on i.conversation_id = c.conversation_id
left join customer s on s.conversation_id = c.conversation_id and s.from_start = 1
left join customer e on e.conversation_id = c.conversation_id and e.from_end = 1
left join customer_text t on t.conversation_id = c.conversation_id
left join turn_lists l on l.conversation_id = c.conversation_id
left join handoffs h on h.conversation_id = c.conversation_id
