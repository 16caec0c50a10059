-- What the warehouse found, one line per mart: the headline a support lead or marketer would read.
select 1 as n, 'busiest intent' as finding,
       (select intent || ': ' || cast(sum(conversations) as varchar) || ' conversations'
        from analytics.mart_intent_daily where intent <> 'unknown' group by intent order by sum(conversations) desc limit 1) as detail
union all
select 2, 'topic spikes',
       (select coalesce(string_agg(topic || ' in the week of ' || cast(week as varchar) || ' (' || cast(conversations as varchar)
               || ' vs ' || cast(cast(round(baseline_mean) as bigint) as varchar) || ' usual)', '; '), 'none')
        from analytics.mart_topic_trends where is_spike)
union all
select 3, 'lowest resolution rate',
       (select intent || ': ' || cast(cast(round(100.0 * sum(solved) / sum(conversations)) as bigint) as varchar) || '% solved, '
               || cast(cast(round(100.0 * sum(escalated) / sum(conversations)) as bigint) as varchar) || '% escalated'
        from analytics.mart_resolution where intent <> 'unknown' group by intent having sum(conversations) >= 20
        order by 1.0 * sum(solved) / sum(conversations) limit 1)
union all
select 4, 'most repeat contacts',
       (select intent || ': ' || cast(sum(repeat_contacts) as varchar) || ' of ' || cast(sum(conversations) as varchar)
        from analytics.mart_repeat_contacts group by intent order by sum(repeat_contacts) desc limit 1)
union all
select 5, 'campaigns with friction',
       (select coalesce(string_agg(utm_campaign || ' (' || cast(cast(round(100 * confusion_share) as bigint) as varchar) || '% confused)', ', '), 'none')
        from analytics.mart_campaign_friction where has_friction)
union all
select 6, 'objection that loses most sales',
       (select objection || ': ' || cast(cast(round(100 * conversion_rate) as bigint) as varchar) || '% converted of '
               || cast(conversations as varchar)
        from analytics.mart_preconversion_objections where conversations >= 10 order by conversion_rate limit 1)
union all
select 7, 'top feature requests',
       (select string_agg(theme || ' (' || cast(requests as varchar) || ')', ', ')
        from (select theme, requests from analytics.mart_feature_requests where theme <> 'unthemed' order by requests desc, theme limit 3) t)
union all
select 8, 'negative cluster most tied to churn',
       (select intent || ' / ' || topic || ': ' || cast(negative_conversations as varchar) || ' conversations, churn '
               || cast(cast(round(100 * churn_rate) as bigint) as varchar) || '% vs '
               || cast(cast(round(100 * baseline_churn_rate) as bigint) as varchar) || '% baseline'
        from analytics.mart_negative_sentiment where negative_conversations >= 10 order by churn_lift desc nulls last limit 1)
union all
select 9, 'agent QA gap',
       (select agent || ', ' || check_name || ': ' || cast(cast(round(100 * pass_rate) as bigint) as varchar) || '% of '
               || cast(conversations as varchar)
        from analytics.mart_agent_qa where conversations >= 20 order by pass_rate limit 1)
order by n
