select 1 as id, 'ada' as name, 12.5 as price
