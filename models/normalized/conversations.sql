-- One row per conversation: where it came from, who handled it, its language, turn counts,
-- times and, for calls, voice metrics. An email thread spread over several raw records is one
-- conversation.
with interactions as (
    select * from {{ ref('interactions') }} where quarantine_reason is null
),
-- One detection per conversation: when the customer turns whose language is known all agree,
-- that is the conversation's language; otherwise its whole text decides.
languages as (
    select
        conversation_id,
        case
            when count(distinct language) = 1 then min(language)
            else detect_language(string_agg(text_redacted, ' ' order by turn_index))
        end as language
    from {{ ref('turns') }}
    where not is_boilerplate
    group by conversation_id
)
select
    i.conversation_id,
    min(i.source) as source,
    min(i.source_id) as source_id,
    min(i.channel) as channel,
    min(i.format) as format,
    max(i.platform) as platform,
    max(i.agent) as agent,
    max(i.queue) as queue,
    max(i.campaign) as campaign,
    max(i.subject_redacted) as subject_redacted,
    max(l.language) as language,
    count(*) as interactions,
    sum(i.turn_count) as turn_count,
    sum(i.customer_turns) as customer_turns,
    sum(i.agent_turns) as agent_turns,
    sum(i.bot_turns) as bot_turns,
    min(i.started_at) as started_at,
    max(i.ended_at) as ended_at,
    case
        when count(*) > 1
            then cast((date_part('epoch', max(i.ended_at)) - date_part('epoch', min(i.started_at))) * 1000 as bigint)
        else max(i.duration_ms)
    end as duration_ms,
    max(i.customer_talk_ms) as customer_talk_ms,
    max(i.agent_talk_ms) as agent_talk_ms,
    max(i.talk_ratio) as talk_ratio,
    max(i.silence_ms) as silence_ms,
    max(i.silences) as silences,
    max(i.overlap_ms) as overlap_ms,
    max(i.interruptions) as interruptions,
    max(i.longest_monologue_ms) as longest_monologue_ms,
    min(i.received_at) as received_at
from interactions i
left join languages l on l.conversation_id = i.conversation_id
group by i.conversation_id
