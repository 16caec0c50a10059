-- every intent row has a user
select i.* from {{ ref('intents') }} as i left join {{ ref('users') }} as u on u.user_id = i.user_id
where u.user_id is null
