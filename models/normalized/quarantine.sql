-- Raw interactions that could not be read, with the reason. The raw rows stay untouched: fix the
-- source or the transcript settings and re-run to bring them in. The run reports the count of
-- every model tagged quarantine.
{{ config(tags=['quarantine']) }}
select
    source,
    source_id,
    channel,
    format,
    quarantine_reason as reason,
    received_at
from {{ ref('interactions') }}
where quarantine_reason is not null
