-- Topic trends by week: conversations per topic, the change on the week before, and a flag when
-- a week is far above the topic's trailing weeks (an unusual spike): more than
-- var('spike_stddevs') standard deviations above their mean, where the deviation is at least the
-- square root of the mean (the noise of a count), so small topics do not spike on chance.
with tagged as (
    select week, unnest(string_to_array(topics, ',')) as topic
    from {{ ref('mart_conversations') }}
    where topics <> ''
),
counts as (
    select week, topic, count(*) as conversations from tagged group by week, topic
),
weeks as (
    select distinct week from {{ ref('mart_conversations') }}
),
topics as (
    select distinct topic from counts
),
-- Every topic in every week, so a quiet week counts as zero.
filled as (
    select w.week, t.topic, coalesce(c.conversations, 0) as conversations
    from weeks w
    cross join topics t
    left join counts c on c.week = w.week and c.topic = t.topic
),
baselines as (
    select
        week,
        topic,
        conversations,
        lag(conversations) over (partition by topic order by week) as previous_week,
        avg(cast(conversations as double precision)) over (
            partition by topic order by week rows between {{ var('spike_baseline_weeks') }} preceding and 1 preceding
        ) as baseline_mean,
        avg(cast(conversations as double precision) * conversations) over (
            partition by topic order by week rows between {{ var('spike_baseline_weeks') }} preceding and 1 preceding
        ) as baseline_square,
        count(*) over (
            partition by topic order by week rows between {{ var('spike_baseline_weeks') }} preceding and 1 preceding
        ) as baseline_weeks
    from filled
)
select
    week,
    topic,
    conversations,
    previous_week,
    conversations - previous_week as week_over_week,
    case when previous_week > 0 then cast(conversations - previous_week as double precision) / previous_week end
        as week_over_week_pct,
    baseline_mean,
    sqrt(greatest(baseline_square - baseline_mean * baseline_mean, 0)) as baseline_stddev,
    coalesce(
        baseline_weeks >= 2
        and conversations >= {{ var('spike_min_conversations') }}
        and conversations > baseline_mean + {{ var('spike_stddevs') }} * greatest(
            sqrt(greatest(baseline_square - baseline_mean * baseline_mean, 0)),
            sqrt(baseline_mean)
        ),
        false
    ) as is_spike
from baselines
order by week, topic
