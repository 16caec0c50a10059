select 'u1' as user_id
