-- One row per exported record: what transcript_info reads from it, and the conversation it
-- belongs to (an email reply joins its thread), or the reason it could not be read.
with raw as (
    select id, channel, payload, format, received_at from {{ ref('raw_inbox') }}
)
select
    conversation_id('inbox', coalesce(i.thread_id, i.id)) as conversation_id,
    i.id,
    i.channel,
    cast(i.received_at as timestamp) as received_at,
    i.turn_count,
    i.duration_ms,
    i.quarantine_reason as reason
from {{ transcript_infos('raw', settings=transcript_settings('inbox')) }} as i
