-- How each kind of problem ends, per channel.
select
    l.intent,
    c.channel,
    count(*) as conversations,
    sum(case when l.resolution = 'solved' then 1 else 0 end) as solved,
    sum(case when l.resolution = 'escalated' then 1 else 0 end) as escalated,
    avg(case when l.resolution = 'solved' then 1.0 else 0.0 end) as solved_rate,
    avg(l.sentiment_end) as avg_sentiment_end
from {{ ref('conversation_labels') }} l
join {{ ref('conversations') }} c on c.conversation_id = l.conversation_id
group by l.intent, c.channel
order by l.intent, c.channel
