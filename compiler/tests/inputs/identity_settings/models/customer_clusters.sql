select record_id, cluster_key
from stitch_identity(
  'select * from {{ ref("contacts") }}',
  {{ identity_settings('customers') }}
)
