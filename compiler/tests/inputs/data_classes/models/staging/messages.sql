-- Each way a column's class flows: carried, sanitised, pseudonymised, labelled, measured,
-- compared, through a CTE and a union, and a declaration raising a constant.
with m as (
    select id, body, email, sent_at from {{ source('app', 'messages') }}
)
select
    id,
    body,
    lower(body) as lowered,
    summarize(body) as summary,
    redact_pii(body) as redacted,
    md5(email) as email_hash,
    classify_intent(redact_pii(body), 'support') as intent,
    length(body) as body_length,
    body like '%refund%' as mentions_refund,
    case when body is null then 'empty' else redact_pii(body) end as shown,
    count(*) over (partition by email) as per_sender,
    'x' as tagged,
    sent_at
from m
union all
select id, body, body, body, body, md5(email), 'unknown', length(body), false, body, 1, 'y', sent_at
from {{ source('app', 'messages') }}
