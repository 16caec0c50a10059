-- Exported records that could not be read, with the reason; the run reports their count.
{{ config(tags=['quarantine']) }}
select id, channel, reason, received_at from {{ ref('interactions') }} where reason is not null
