-- One row per conversation with everything known about it: when, where, who handled it, which
-- customer and account, why it started, how it went and how it ended. The fact table BI tools
-- slice, and what the other marts are built from. Agents are named as the roster (crm agents)
-- names them, whatever name or platform id the payload gave.
with agent_aliases as (
    select trim(alias) as alias, min(name) as name, min(team) as team
    from (
        select name, team, unnest(string_to_array(aliases, '|')) as alias
        from {{ source('crm', 'agents') }}
    ) a
    group by trim(alias)
)
select
    c.conversation_id,
    c.started_at,
    cast(c.started_at as date) as day,
    cast(date_trunc('week', c.started_at) as date) as week,
    c.source,
    c.channel,
    c.language,
    coalesce(c.queue, a.team, 'unassigned') as queue,
    coalesce(a.name, c.agent, 'unassigned') as agent,
    c.campaign,
    m.campaign_id,
    m.customer_key,
    m.account_id,
    coalesce(s.intent, 'unknown') as intent,
    s.intent_confidence,
    coalesce(s.topics, '') as topics,
    s.resolution,
    s.sentiment_start,
    s.sentiment_end,
    s.sentiment_change,
    coalesce(s.sentiment_end < {{ var('negative_sentiment_below') }}, false) as is_negative,
    c.turn_count,
    c.customer_turns,
    c.agent_turns,
    c.duration_ms,
    s.agent_handoffs,
    coalesce(r.is_repeat_contact, false) as is_repeat_contact,
    s.taxonomy_version
from {{ ref('conversations') }} c
left join {{ ref('conversation_signals') }} s on s.conversation_id = c.conversation_id
left join {{ ref('identity_map') }} m on m.conversation_id = c.conversation_id
left join {{ ref('repeat_contacts') }} r on r.conversation_id = c.conversation_id
left join agent_aliases a on a.alias = c.agent
