-- Negative-sentiment clusters joined to churn and refunds: conversations where the customer
-- ended negative, grouped by intent and leading topic, with how many of those customers churned
-- or were refunded within var('outcome_window_days') days, next to the rate among all other
-- conversations (the lift).
with conversations as (
    select
        conversation_id,
        account_id,
        customer_key,
        started_at,
        intent,
        case when topics = '' then 'none' else split_part(topics, ',', 1) end as topic,
        sentiment_end,
        is_negative
    from {{ ref('mart_conversations') }}
    where account_id is not null
),
churned as (
    select distinct c.conversation_id
    from conversations c
    join {{ source('crm', 'churn') }} ch
      on ch.account_id = c.account_id
     and cast(ch.churned_at as timestamp) >= cast(cast(c.started_at as date) as timestamp)
     and cast(ch.churned_at as timestamp) < c.started_at + interval '{{ var("outcome_window_days") }} days'
),
refunded as (
    select distinct c.conversation_id
    from conversations c
    join {{ source('crm', 'refunds') }} r
      on r.account_id = c.account_id
     and cast(r.refunded_at as timestamp) >= c.started_at
     and cast(r.refunded_at as timestamp) < c.started_at + interval '{{ var("outcome_window_days") }} days'
),
outcomes as (
    select
        c.*,
        ch.conversation_id is not null as churned,
        r.conversation_id is not null as refunded
    from conversations c
    left join churned ch on ch.conversation_id = c.conversation_id
    left join refunded r on r.conversation_id = c.conversation_id
),
baseline as (
    select
        avg(case when churned then 1.0 else 0.0 end) as churn_rate,
        avg(case when refunded then 1.0 else 0.0 end) as refund_rate
    from outcomes
    where not is_negative
)
select
    o.intent,
    o.topic,
    count(*) as negative_conversations,
    count(distinct o.customer_key) as customers,
    avg(o.sentiment_end) as avg_sentiment_end,
    avg(case when o.churned then 1.0 else 0.0 end) as churn_rate,
    avg(case when o.refunded then 1.0 else 0.0 end) as refund_rate,
    max(b.churn_rate) as baseline_churn_rate,
    max(b.refund_rate) as baseline_refund_rate,
    avg(case when o.churned then 1.0 else 0.0 end) / nullif(max(b.churn_rate), 0) as churn_lift
from outcomes o
cross join baseline b
where o.is_negative
group by o.intent, o.topic
order by negative_conversations desc, o.intent, o.topic
