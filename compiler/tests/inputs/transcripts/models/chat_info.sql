select chat_id, turn_count, quarantine_reason
from {{ transcript_infos(ref('chats'), payload='body', format='kind') }} as i
