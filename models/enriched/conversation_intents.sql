-- Why each conversation started: the intent and topics of the customer's opening message under
-- the project's support taxonomy, with the taxonomy version that produced them.
with openings as (
    select conversation_id, text_redacted as opening_text,
           row_number() over (partition by conversation_id order by turn_index) as position
    from {{ ref('turns') }}
    where role = 'customer' and not is_boilerplate
)
select
    conversation_id,
    opening_text,
    classify_intent(opening_text, {{ taxonomy('support') }}) as intent,
    array_to_string(tag_topics(opening_text, {{ taxonomy('support') }}), ',') as topics,
    taxonomy_version({{ taxonomy('support') }}) as taxonomy_version
from openings
where position = 1
