-- Sentiment from start to end by intent: how customers feel when they open a conversation and
-- when it ends, and how many leave happier or unhappier than they came.
select
    intent,
    count(*) as conversations,
    avg(sentiment_start) as avg_sentiment_start,
    avg(sentiment_end) as avg_sentiment_end,
    avg(sentiment_change) as avg_sentiment_change,
    cast(sum(case when sentiment_change > 0.05 then 1 else 0 end) as double precision) / count(*) as improved_share,
    cast(sum(case when sentiment_change < -0.05 then 1 else 0 end) as double precision) / count(*) as worsened_share
from {{ ref('mart_conversations') }}
where sentiment_start is not null and sentiment_end is not null
group by intent
order by conversations desc, intent
