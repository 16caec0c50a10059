select 1 as id, 'It''s Jane, jane@example.com, about TCK-448812' as body
