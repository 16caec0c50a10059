-- Intent mix by day and channel: how many conversations each intent brought, and its share of
-- the day's conversations on that channel.
with counts as (
    select day, channel, intent, count(*) as conversations
    from {{ ref('mart_conversations') }}
    group by day, channel, intent
),
totals as (
    select day, channel, sum(conversations) as day_conversations
    from counts
    group by day, channel
)
select
    c.day,
    c.channel,
    c.intent,
    c.conversations,
    cast(c.conversations as double precision) / t.day_conversations as share_of_day
from counts c
join totals t on t.day = c.day and t.channel = c.channel
order by c.day, c.channel, c.conversations desc, c.intent
