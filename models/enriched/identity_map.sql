-- Each conversation joined to its customer: the identity cluster, the CRM account in it, the
-- account's latest order placed before the conversation, and the campaign it came from.
with interaction_clusters as (
    select
        i.conversation_id,
        i.received_at,
        i.campaign,
        k.cluster_key,
        k.rule,
        k.linked_to,
        row_number() over (partition by i.conversation_id order by i.received_at, i.source_id) as nth
    from {{ ref('interactions') }} i
    join {{ ref('identity_clusters') }} k
      on k.record_id = 'conversation:' || i.interaction_id
    where i.quarantine_reason is null
),
-- A conversation's customer is the one its first interaction names (an email thread's later
-- messages may come from the agent).
conversation_clusters as (
    select conversation_id, received_at, campaign, cluster_key, rule, linked_to
    from interaction_clusters
    where nth = 1
),
cluster_accounts as (
    select
        k.cluster_key,
        min(r.account_ref) as account_id,
        count(distinct r.account_ref) as accounts_in_cluster
    from {{ ref('identity_clusters') }} k
    join {{ ref('identity_records') }} r on r.record_id = k.record_id
    where r.account_ref is not null
    group by k.cluster_key
),
prior_orders as (
    select
        cc.conversation_id,
        o.order_id,
        cast(o.ordered_at as timestamp) as ordered_at,
        row_number() over (partition by cc.conversation_id order by cast(o.ordered_at as timestamp) desc, o.order_id) as recency
    from conversation_clusters cc
    join cluster_accounts a on a.cluster_key = cc.cluster_key
    join {{ source('crm', 'orders') }} o
      on o.account_id = a.account_id
     and cast(o.ordered_at as timestamp) <= cc.received_at
)
select
    cc.conversation_id,
    cc.cluster_key as customer_key,
    a.account_id,
    coalesce(a.accounts_in_cluster, 0) as accounts_in_cluster,
    cc.rule as link_rule,
    cc.linked_to,
    o.order_id as last_order_id,
    o.ordered_at as last_order_at,
    m.campaign_id,
    '{{ invocation_id }}' as run_id
from conversation_clusters cc
left join cluster_accounts a on a.cluster_key = cc.cluster_key
left join prior_orders o on o.conversation_id = cc.conversation_id and o.recency = 1
left join {{ source('crm', 'campaigns') }} m on m.utm_campaign = cc.campaign
