select id, redact_pii(body, {{ pii_policy('support') }}) as body
from {{ ref('messages') }}
