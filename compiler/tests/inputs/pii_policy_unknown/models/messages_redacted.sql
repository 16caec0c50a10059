select id, redact_pii(body, {{ pii_policy('chats') }}) as body
from {{ ref('messages') }}
