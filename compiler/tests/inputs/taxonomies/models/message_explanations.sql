select e.message_id, e.label as intent, e.confidence, e.method, e.evidence, e.taxonomy_version
from {{ explain_intents(ref('message_intents'), text='body', taxonomy=taxonomy('support')) }} as e
