-- The raw layer: a faithful, untouched view of the interaction files.
select
    source,
    source_id,
    channel,
    format,
    contact_email,
    contact_phone,
    contact_name,
    campaign,
    payload,
    received_at
from {{ source('raw', 'raw_interactions') }}
