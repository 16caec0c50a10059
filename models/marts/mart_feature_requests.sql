-- Feature-request themes: what customers ask the product to do, under the product_feedback
-- taxonomy, with how many conversations and customers ask for each and when, for the product
-- team's backlog.
with requests as (
    select
        m.conversation_id,
        m.customer_key,
        m.account_id,
        m.started_at,
        array_to_string(tag_topics(i.opening_text, {{ taxonomy('product_feedback') }}), ',') as themes
    from {{ ref('mart_conversations') }} m
    join {{ ref('conversation_intents') }} i on i.conversation_id = m.conversation_id
    where m.intent = 'feature_request'
),
themed as (
    select
        conversation_id,
        customer_key,
        account_id,
        started_at,
        unnest(string_to_array(case when themes = '' then 'unthemed' else themes end, ',')) as theme
    from requests
),
latest as (
    select max(started_at) as until from {{ ref('mart_conversations') }}
)
select
    t.theme,
    count(*) as requests,
    count(distinct t.customer_key) as customers,
    count(distinct t.account_id) as accounts,
    sum(case when t.started_at > l.until - interval '30 days' then 1 else 0 end) as requests_last_30_days,
    min(t.started_at) as first_requested_at,
    max(t.started_at) as last_requested_at,
    taxonomy_version({{ taxonomy('product_feedback') }}) as taxonomy_version
from themed t
cross join latest l
group by t.theme
order by requests desc, t.theme
