-- One row per raw interaction: the conversation it belongs to (an email reply joins its thread),
-- what transcript_info reads from its payload, or why it could not be read.
with raw as (
    select source, source_id, channel, format, payload, campaign as source_campaign, received_at,
           {{ contract_violation('raw', 'raw_interactions') }} as contract_violation
    from {{ ref('raw_interactions') }}
),
info as (
    select * from {{ transcript_infos('raw', settings=transcript_settings('support')) }} as i
),
-- A reply that names only its parent (In-Reply-To without References) takes the parent's thread.
parents as (
    select source, message_id, min(thread_id) as thread_id
    from info
    where format in ('email', 'eml', 'mbox') and message_id is not null
    group by source, message_id
)
select
    conversation_id(i.source, coalesce(p.thread_id, i.thread_id, i.source_id)) as conversation_id,
    conversation_id(i.source, i.source_id) as interaction_id,
    i.source,
    i.source_id,
    i.channel,
    i.format,
    i.platform,
    i.agent,
    i.queue,
    coalesce(i.source_campaign, i.campaign) as campaign,
    redact_pii(i.subject, {{ pii_policy('support') }}) as subject_redacted,
    coalesce(p.thread_id, i.thread_id) as thread_id,
    i.turn_count,
    i.customer_turns,
    i.agent_turns,
    i.bot_turns,
    -- A record that breaks the source contract (e.g. received_at not a timestamp) keeps no times.
    case when i.contract_violation is null then cast(coalesce(i.started_at, i.received_at) as timestamp) end as started_at,
    case when i.contract_violation is null then cast(coalesce(i.ended_at, i.started_at, i.received_at) as timestamp) end as ended_at,
    i.duration_ms,
    i.customer_talk_ms,
    i.agent_talk_ms,
    i.talk_ratio,
    i.silence_ms,
    i.silences,
    i.overlap_ms,
    i.interruptions,
    i.longest_monologue_ms,
    case
        when i.payload is null then 'payload is NULL'
        when i.format is null then 'format is NULL'
        when i.contract_violation is not null then i.contract_violation
        else i.quarantine_reason
    end as quarantine_reason,
    case when i.contract_violation is null then cast(i.received_at as timestamp) end as received_at
-- The small side first: DataFusion builds its hash table from a join's left input, and a table
-- function gives it no row counts to swap them by.
from parents p
right join info i
  on p.source = i.source and p.message_id = i.thread_id and p.thread_id <> i.thread_id
