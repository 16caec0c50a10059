-- The conversations that ended worst: negative at the end and not solved.
select c.id, c.channel, l.intent, l.resolution, l.sentiment_end, l.summary
from {{ ref('conversation_labels') }} l
join {{ ref('conversations') }} c on c.conversation_id = l.conversation_id
where l.sentiment_end < -0.05 and l.resolution <> 'solved'
order by l.sentiment_end, c.id
