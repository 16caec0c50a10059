-- The warehouse against the demo generator's ground truth (target/demo/truth.csv and
-- truth_pii.csv): how often each label is right.
with truth as (
    select t.*, c.conversation_id
    from 'target/demo/truth.csv' t
    join analytics.conversations c on c.source = t.source and c.source_id = t.source_id
),
joined as (
    select t.*, m.intent as found_intent, m.resolution as found_resolution, m.account_id as found_account,
           m.is_repeat_contact as found_repeat
    from truth t
    join analytics.mart_conversations m on m.conversation_id = t.conversation_id
),
truth_qa as (
    select agent, 'greeting' as check_name, avg(case when qa_greeting then 1.0 else 0.0 end) as rate
    from truth where qa_greeting is not null group by agent
    union all
    select agent, 'verification', avg(case when qa_verification then 1.0 else 0.0 end)
    from truth where qa_verification is not null group by agent
    union all
    select agent, 'resolution_offered', avg(case when qa_resolution_offered then 1.0 else 0.0 end)
    from truth where qa_resolution_offered is not null group by agent
    union all
    select agent, 'closing', avg(case when qa_closing then 1.0 else 0.0 end)
    from truth where qa_closing is not null group by agent
),
spike_weeks as (
    select distinct cast(date_trunc('week', cast(started_at as timestamp)) as date) as week from truth where spike
),
confusing as (
    select campaign from truth where campaign is not null
    group by campaign having avg(case when campaign_confusion then 1.0 else 0.0 end) >= 0.05
),
leaks as (
    select count(*) as leaked
    from 'target/demo/truth_pii.csv' p
    join analytics.conversations c on c.source = p.source and c.source_id = p.source_id
    join analytics.turns tu on tu.conversation_id = c.conversation_id
    -- A planted value in a turn's text; a speaker's name in its speaker field.
    where case when p.pii_type = 'SPEAKER' then strpos(coalesce(tu.speaker_redacted, ''), p.value) > 0
               else strpos(tu.text_redacted, p.value) > 0 end
)
select measure, value from (
select 1 as n, 'conversations read (of ' || cast((select count(*) from 'target/demo/truth.csv') as varchar) || ')' as measure,
       cast(count(*) as varchar) as value from joined
union all
select 2 as n, 'planted broken records in quarantine',
       cast((select count(*) from analytics.quarantine) as varchar) || ' of '
       || cast((select count(*) from 'target/demo/truth.csv' where malformed is not null) as varchar)
union all
select 3 as n, 'intent accuracy', cast(round(avg(case when found_intent = intent then 1.0 else 0.0 end), 3) as varchar) from joined
union all
select 4 as n, 'intent accuracy where not unknown',
       cast(round(avg(case when found_intent = intent then 1.0 else 0.0 end), 3) as varchar) from joined where found_intent <> 'unknown'
union all
select 5 as n, 'resolution accuracy', cast(round(avg(case when found_resolution = resolution then 1.0 else 0.0 end), 3) as varchar) from joined
union all
select 6 as n, 'customer account found', cast(round(avg(case when found_account = account_id then 1.0 else 0.0 end), 3) as varchar)
from joined where account_id is not null and channel <> 'bot'
union all
select 7 as n, 'agent QA pass rate, mean gap to truth (agent x check)',
       cast(round(avg(abs(q.pass_rate - t.rate)), 3) as varchar)
from analytics.mart_agent_qa q join truth_qa t on t.agent = q.agent and t.check_name = q.check_name
union all
select 8 as n, 'planted delivery spike flagged (shipping topic)',
       case when (select count(*) from analytics.mart_topic_trends m join spike_weeks w on w.week = m.week
                  where m.topic = 'shipping' and m.is_spike) > 0 then 'yes' else 'no' end
union all
select 9 as n, 'confusing campaigns flagged',
       cast((select count(*) from analytics.mart_campaign_friction f join confusing c on c.campaign = f.utm_campaign where f.has_friction) as varchar)
       || ' of ' || cast((select count(*) from confusing) as varchar) || ', plus '
       || cast((select count(*) from analytics.mart_campaign_friction f where f.has_friction
                and f.utm_campaign not in (select campaign from confusing)) as varchar) || ' others'
union all
select 10 as n, 'planted PII values left in turns (text and speaker)', cast(max(leaked) as varchar) || ' of '
       || cast((select count(*) from 'target/demo/truth_pii.csv') as varchar) from leaks

) scorecard
order by n
