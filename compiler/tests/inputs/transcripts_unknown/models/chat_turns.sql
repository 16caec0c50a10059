select chat_id, turn_index, text
from {{ parse_transcripts(ref('chats'), payload='body', format='kind', settings=transcript_settings('help')) }} as t
