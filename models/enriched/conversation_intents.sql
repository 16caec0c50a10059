-- Why each conversation started: the intent and topics of the customer's opening message under
-- the project's support taxonomy, with the confidence, how it was decided, the evidence and the
-- taxonomy version that produced them.
--
-- Incremental: a run labels only conversations it has not labelled under the current taxonomy
-- version, so a changed taxonomy re-labels everything once and new conversations are labelled
-- as they arrive; `--full-refresh` labels everything again.
{{ config(materialized='incremental', unique_key='conversation_id', event_time='received_at') }}
with customer_turns as (
    select conversation_id, text_redacted as opening_text, received_at,
           row_number() over (partition by conversation_id order by turn_index) as position
    from {{ ref('turns') }}
    where role = 'customer' and not is_boilerplate
{%- if is_incremental() %}
      and conversation_id not in (
          select conversation_id from {{ this }}
          where taxonomy_version = taxonomy_version({{ taxonomy('support') }})
      )
{%- endif %}
),
-- Only the opening is classified.
openings as (
    select conversation_id, opening_text, received_at from customer_turns where position = 1
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
    e.taxonomy_version,
    e.received_at,
    '{{ invocation_id }}' as run_id
from {{ explain_intents('openings', text='opening_text', taxonomy=taxonomy('support')) }} as e
