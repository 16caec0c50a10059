-- Every turn of every chat, read with the project's settings.
select chat_id, turn_index, role, speaker, text
from {{ parse_transcripts(ref('chats'), payload='body', format='kind', settings=transcript_settings('helpdesk')) }} as t
