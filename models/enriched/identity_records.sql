-- Every record that names a customer, in one shape for stitching: CRM accounts, and the contact
-- details platforms attach to each interaction (a conversation, or one message of an email
-- thread). record_id says where each came from.
{{ config(materialized='view') }}
select
    'account:' || account_id as record_id,
    account_id as account_ref,
    email,
    phone,
    full_name
from {{ source('crm', 'crm_accounts') }}
union all
select
    'conversation:' || conversation_id(source, source_id) as record_id,
    cast(null as varchar) as account_ref,
    contact_email as email,
    contact_phone as phone,
    contact_name as full_name
from {{ ref('raw_interactions') }}
