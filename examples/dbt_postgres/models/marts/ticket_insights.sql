-- One row per ticket with why it was opened (the helpdesk taxonomy), its topics, the
-- requester's sentiment, a one-sentence summary, and the taxonomy version behind the labels.
select
    t.conversation_id,
    t.ticket_id,
    t.requester_email,
    t.created_at,
    t.language,
    convlytics.classify_intent(t.text_redacted, 'helpdesk') as intent,
    array_to_string(convlytics.tag_topics(t.text_redacted, 'helpdesk'), ',') as topics,
    convlytics.sentiment(t.text_redacted) as sentiment,
    convlytics.summarize(t.text_redacted, 1) as summary,
    convlytics.taxonomy_version('helpdesk') as taxonomy_version,
    t.text_redacted
from {{ ref('stg_tickets') }} t
