-- The raw layer: the export as received.
select id, channel, format, payload, received_at from {{ source('inbox', 'inbox') }}
