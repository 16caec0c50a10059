select 1 as id, '{{ var("region") }}' as region, '{{ target.name }}' as target_name
