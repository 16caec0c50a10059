-- Campaigns whose leads are confused: for every campaign, the conversations it brought, how many
-- show pricing or expectation confusion (what the ad or email promised is not what the customer
-- sees), and a flag when that share reaches var('campaign_friction_share').
with leads as (
    select
        campaign,
        conversation_id,
        customer_key,
        sentiment_end,
        {{ has_topic('topics', 'pricing_confusion') }} as confused
    from {{ ref('mart_conversations') }}
    where campaign is not null
)
select
    k.campaign_id,
    k.utm_campaign,
    k.name,
    k.channel,
    count(l.conversation_id) as conversations,
    count(distinct l.customer_key) as customers,
    sum(case when l.confused then 1 else 0 end) as confused_conversations,
    avg(case when l.confused then 1.0 else 0.0 end) as confusion_share,
    avg(l.sentiment_end) as avg_sentiment_end,
    coalesce(
        count(l.conversation_id) >= {{ var('campaign_friction_min_conversations') }}
        and avg(case when l.confused then 1.0 else 0.0 end) >= {{ var('campaign_friction_share') }},
        false
    ) as has_friction
from {{ source('crm', 'campaigns') }} k
left join leads l on l.campaign = k.utm_campaign
group by k.campaign_id, k.utm_campaign, k.name, k.channel
order by confusion_share desc nulls last, k.campaign_id
