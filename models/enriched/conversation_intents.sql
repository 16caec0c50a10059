-- Why each conversation started: the intent and topics of the customer's opening message under
-- the project's support taxonomy, with the confidence, how it was decided, the evidence and the
-- taxonomy version that produced them.
with openings as (
    select conversation_id, text_redacted as opening_text,
           row_number() over (partition by conversation_id order by turn_index) as position
    from {{ ref('turns') }}
    where role = 'customer' and not is_boilerplate
)
select
    e.conversation_id,
    e.opening_text,
    e.label as intent,
    e.confidence as intent_confidence,
    e.runner_up as intent_runner_up,
    e.method as intent_method,
    e.evidence as intent_evidence,
    array_to_string(tag_topics(e.opening_text, {{ taxonomy('support') }}), ',') as topics,
    e.taxonomy_version
from {{ explain_intents('openings', text='opening_text', taxonomy=taxonomy('support')) }} as e
where e.position = 1
