-- One row per readable conversation (an email thread is one): channel, records, turns, length.
select
    conversation_id,
    min(id) as id,
    min(channel) as channel,
    min(received_at) as received_at,
    count(*) as records,
    sum(turn_count) as turn_count,
    max(duration_ms) as duration_ms
from {{ ref('interactions') }}
where reason is null
group by conversation_id
