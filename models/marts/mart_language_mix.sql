-- Conversations per channel and language.
select
    channel,
    coalesce(language, 'unknown') as language,
    count(*) as conversations
from {{ ref('conversations') }}
group by channel, coalesce(language, 'unknown')
order by channel, conversations desc, language
