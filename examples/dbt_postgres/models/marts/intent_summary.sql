-- Tickets per intent: how many, how many still open, and how the requesters feel.
select
    intent,
    count(*) as tickets,
    sum(case when s.status <> 'solved' then 1 else 0 end) as open_tickets,
    avg(i.sentiment) as avg_sentiment
from {{ ref('ticket_insights') }} i
join {{ ref('stg_tickets') }} s on s.ticket_id = i.ticket_id
group by intent
order by tickets desc, intent
