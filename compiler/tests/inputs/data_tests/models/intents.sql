select 1 as id, 'refund' as intent, 'u1' as user_id
