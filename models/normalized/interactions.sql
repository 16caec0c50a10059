-- One row per raw interaction: the conversation it belongs to (an email reply joins its thread),
-- what transcript_info reads from its payload, or why it could not be read.
with raw as (
    select source, source_id, channel, format, payload, campaign as source_campaign, received_at
    from {{ ref('raw_interactions') }}
)
select
    conversation_id(source, coalesce(thread_id, source_id)) as conversation_id,
    conversation_id(source, source_id) as interaction_id,
    source,
    source_id,
    channel,
    format,
    platform,
    agent,
    queue,
    coalesce(source_campaign, campaign) as campaign,
    redact_pii(subject, {{ pii_policy('support') }}) as subject_redacted,
    thread_id,
    turn_count,
    customer_turns,
    agent_turns,
    bot_turns,
    cast(coalesce(started_at, received_at) as timestamp) as started_at,
    cast(coalesce(ended_at, started_at, received_at) as timestamp) as ended_at,
    duration_ms,
    customer_talk_ms,
    agent_talk_ms,
    talk_ratio,
    silence_ms,
    silences,
    overlap_ms,
    interruptions,
    longest_monologue_ms,
    case
        when payload is null then 'payload is NULL'
        when format is null then 'format is NULL'
        else quarantine_reason
    end as quarantine_reason,
    cast(received_at as timestamp) as received_at
from {{ transcript_infos('raw', settings=transcript_settings('support')) }} as info
