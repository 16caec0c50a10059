-- Resolution and escalation by intent, queue and agent: how conversations ended, and how much
-- effort they took.
select
    intent,
    queue,
    agent,
    count(*) as conversations,
    sum(case when resolution = 'solved' then 1 else 0 end) as solved,
    sum(case when resolution = 'escalated' then 1 else 0 end) as escalated,
    sum(case when resolution = 'handoff' then 1 else 0 end) as handoffs,
    sum(case when resolution = 'abandoned' then 1 else 0 end) as abandoned,
    sum(case when resolution = 'unresolved' then 1 else 0 end) as unresolved,
    avg(case when resolution = 'solved' then 1.0 else 0.0 end) as resolution_rate,
    avg(case when resolution = 'escalated' then 1.0 else 0.0 end) as escalation_rate,
    avg(cast(turn_count as double precision)) as avg_turns,
    avg(cast(duration_ms as double precision)) / 60000 as avg_duration_minutes,
    avg(case when is_repeat_contact then 1.0 else 0.0 end) as repeat_contact_rate
from {{ ref('mart_conversations') }}
group by intent, queue, agent
order by intent, queue, agent
