select message_id, body,
       classify_intent(body, {{ taxonomy('support') }}) as intent,
       tag_topics(body, {{ taxonomy('support') }}) as topics,
       taxonomy_version({{ taxonomy('support') }}) as taxonomy_version
from (select 'm-1' as message_id, 'I was locked out after the 2FA prompt' as body) as messages
