-- Pre-purchase objections and what followed: for shoppers who asked before buying, what held
-- them back (price, shipping, compatibility, terms, a competitor, or an offer that confused them)
-- and how many bought within var('conversion_window_days') days, when support solved it and
-- when it did not.
with questions as (
    select
        conversation_id,
        account_id,
        started_at,
        resolution,
        case
            when {{ has_topic('topics', 'pricing_confusion') }} then 'pricing_confusion'
            when {{ has_topic('topics', 'competitor') }} then 'competitor'
            when {{ has_topic('topics', 'pricing') }} then 'price'
            when {{ has_topic('topics', 'shipping') }} then 'shipping'
            when {{ has_topic('topics', 'compatibility') }} then 'compatibility'
            when {{ has_topic('topics', 'trust') }} then 'terms'
            else 'other'
        end as objection
    from {{ ref('mart_conversations') }}
    where intent = 'pre_purchase'
),
conversions as (
    select distinct q.conversation_id
    from questions q
    join {{ source('crm', 'orders') }} o
      on o.account_id = q.account_id
     and cast(o.ordered_at as timestamp) >= q.started_at
     and cast(o.ordered_at as timestamp) < q.started_at + interval '{{ var("conversion_window_days") }} days'
),
outcomes as (
    select q.*, v.conversation_id is not null as converted
    from questions q
    left join conversions v on v.conversation_id = q.conversation_id
)
select
    objection,
    count(*) as conversations,
    sum(case when resolution = 'solved' then 1 else 0 end) as solved,
    sum(case when converted then 1 else 0 end) as converted,
    avg(case when converted then 1.0 else 0.0 end) as conversion_rate,
    avg(case when resolution = 'solved' then (case when converted then 1.0 else 0.0 end) end) as conversion_rate_when_solved,
    avg(case when resolution <> 'solved' or resolution is null then (case when converted then 1.0 else 0.0 end) end)
        as conversion_rate_otherwise
from outcomes
group by objection
order by conversations desc, objection
