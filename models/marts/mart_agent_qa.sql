-- Agent QA adherence: for every agent and every check in var('qa_checks') (greeting,
-- verification, resolution offered, closing, or your own), the conversations they answered and
-- how many passed. A check looks for its phrases in the agent's first turn, last turn, or any turn.
with agent_turns as (
    select
        conversation_id,
        {{ phrase_words('text_redacted') }} as words,
        row_number() over (partition by conversation_id order by turn_index) as from_first,
        row_number() over (partition by conversation_id order by turn_index desc) as from_last
    from {{ ref('turns') }}
    where role = 'agent' and not is_boilerplate
),
checks as (
{%- for check in var('qa_checks') %}
    select
        conversation_id,
        '{{ check.name | replace("'", "''") }}' as check_name,
        max(case when {{ phrase_match('words', check.phrases) }} then 1 else 0 end) as passed
    from agent_turns
    {%- if check.scope == 'first' %}
    where from_first = 1
    {%- elif check.scope == 'last' %}
    where from_last = 1
    {%- endif %}
    group by conversation_id
    {%- if not loop.last %}
    union all
    {%- endif %}
{%- endfor %}
)
select
    m.agent,
    m.queue,
    k.check_name,
    count(*) as conversations,
    sum(k.passed) as passed,
    avg(cast(k.passed as double precision)) as pass_rate
from checks k
join {{ ref('mart_conversations') }} m on m.conversation_id = k.conversation_id
group by m.agent, m.queue, k.check_name
order by m.agent, m.queue, k.check_name
