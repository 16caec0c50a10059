-- Repeat contacts by intent and week: how often customers come back about the same problem within
-- var('repeat_contact_days') days, a sign the first answer did not solve it.
select
    intent,
    week,
    count(*) as conversations,
    count(distinct customer_key) as customers,
    sum(case when is_repeat_contact then 1 else 0 end) as repeat_contacts,
    avg(case when is_repeat_contact then 1.0 else 0.0 end) as repeat_rate
from {{ ref('mart_conversations') }}
where intent <> 'unknown' and customer_key is not null
group by intent, week
order by intent, week
