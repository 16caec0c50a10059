-- One row per identity record: the customer cluster it belongs to and the link that put it there.
select
    record_id,
    cluster_key,
    linked_to,
    rule,
    match_probability,
    '{{ invocation_id }}' as run_id
from stitch_identity(
    'select record_id, account_ref, email, phone, full_name from {{ ref("identity_records") }}',
    {{ identity_settings('customers') }}
)
